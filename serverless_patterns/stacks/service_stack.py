"""One environment's stack: composes the patterns and wires them together."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from serverless_patterns.config import EnvironmentConfig
from serverless_patterns.constructs.alarm_topic import AlarmTopic
from serverless_patterns.constructs.api_backend import ApiBackend
from serverless_patterns.constructs.event_pipeline import EventPipeline
from serverless_patterns.constructs.fan_out import FanOut
from serverless_patterns.constructs.observability import ObservabilityDashboard
from serverless_patterns.constructs.order_workflow import OrderWorkflow
from serverless_patterns.constructs.power_tuning import PowerTuning


class ServiceStack(Stack):
    """Every pattern of one environment, configured from its ``EnvironmentConfig``.

    Outputs name what a client or an operator needs (URLs, bucket and table names); the
    local cloud and the real-account test suite read them.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        defaults = config.defaults
        self.alarm_topic = AlarmTopic(
            self, "AlarmTopic", emails=config.alarm_emails, removal_policy=config.removal_policy
        )

        self.api = ApiBackend(
            self,
            "Api",
            defaults=defaults,
            settings=config.api,
            functions=config.functions_for(ApiBackend.ROLES),
            service="items-api",
        )
        CfnOutput(self, "ApiUrl", value=self.api.url, description="Base URL of the items API")
        CfnOutput(self, "ItemsTableName", value=self.api.table.table_name)
        if self.api.user_pool is not None:
            CfnOutput(self, "UserPoolId", value=self.api.user_pool.user_pool_id)
        if self.api.user_pool_client is not None:
            CfnOutput(self, "UserPoolClientId", value=self.api.user_pool_client.user_pool_client_id)

        self.pipeline = EventPipeline(
            self,
            "EventPipeline",
            defaults=defaults,
            settings=config.pipeline,
            functions=config.functions_for(EventPipeline.ROLES),
        )
        CfnOutput(self, "UploadBucketName", value=self.pipeline.upload_bucket.bucket_name)
        CfnOutput(self, "ResultsBucketName", value=self.pipeline.results_bucket.bucket_name)
        CfnOutput(self, "ProcessingQueueUrl", value=self.pipeline.queue.queue_url)
        CfnOutput(self, "ProcessingDlqArn", value=self.pipeline.dead_letter_queue.queue_arn)

        self.fan_out = FanOut(
            self,
            "FanOut",
            defaults=defaults,
            settings=config.fan_out,
            functions=config.functions_for(FanOut.ROLES),
        )
        CfnOutput(self, "FanOutMasterFunction", value=self.fan_out.master.alias.function_arn)
        CfnOutput(self, "FanOutStatusFunction", value=self.fan_out.status_reader.alias.function_arn)
        CfnOutput(self, "FanOutInputBucketName", value=self.fan_out.input_bucket.bucket_name)
        CfnOutput(self, "FanOutTableName", value=self.fan_out.table.table_name)
        CfnOutput(self, "FanOutDlqArn", value=self.fan_out.dead_letter_queue.queue_arn)

        self.order_workflow = OrderWorkflow(
            self,
            "OrderWorkflow",
            defaults=defaults,
            settings=config.workflow,
            functions=config.functions_for(OrderWorkflow.ROLES),
        )
        CfnOutput(self, "OrderStateMachineArn", value=self.order_workflow.state_machine.state_machine_arn)
        CfnOutput(self, "OrderEventBusName", value=self.order_workflow.event_bus.event_bus_name)
        CfnOutput(self, "OrdersTableName", value=self.order_workflow.orders_table.table_name)
        CfnOutput(self, "InventoryTableName", value=self.order_workflow.inventory_table.table_name)
        CfnOutput(self, "PaymentsTableName", value=self.order_workflow.payments_table.table_name)

        self.observability = ObservabilityDashboard(
            self,
            "Observability",
            observables=[self.api, self.pipeline, self.fan_out, self.order_workflow],
            environment_name=config.name,
            defaults=defaults,
            existing_alarm_topic=self.alarm_topic,
            extra_log_groups=[self.order_workflow.log_group, self.api.access_logs],
        )
        CfnOutput(self, "DashboardUrl", value=self.observability.dashboard_url)

        if config.power_tuning.enabled:  # Dev only (EnvironmentConfig refuses it elsewhere)
            self.power_tuning = PowerTuning(self, "PowerTuning", settings=config.power_tuning)
            CfnOutput(self, "PowerTuningStateMachineArn", value=self.power_tuning.state_machine_arn)
