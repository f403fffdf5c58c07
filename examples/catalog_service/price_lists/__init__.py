"""The catalog team's own EventPipeline processor: supplier price lists (CSV) checked and summarised."""
