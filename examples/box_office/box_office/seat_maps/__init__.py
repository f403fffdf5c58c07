"""A venue's seat map: one CSV per upload (``section,row,seat``), checked and counted.

- ``box_office.seat_maps.validate.handler``: the box office's rules, after the pipeline's own
  checks: the uploader names the venue (``x-amz-meta-venue``) and the header is ``section,row,seat``.
- ``box_office.seat_maps.process.handler``: the seats per section, recorded as
  ``processed/{key}.json``; a row without a section, row or seat, or a seat listed twice, parks
  the whole map with the row number (fix it and upload again).

One module per role, so the validator's cold start loads none of the processor's machinery.
"""

VENUE_METADATA = "venue"
COLUMNS = ("section", "row", "seat")
