"""Flow definition and run files of other messaging platforms (RapidPro/TextIt, Twilio Studio),
read into the upstream-shaped records every Flowdesk source yields (see ``sources/base.py``)."""
