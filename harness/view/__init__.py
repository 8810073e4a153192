"""``harness view``: a local web app for looking into stored runs (see ``app``)."""
