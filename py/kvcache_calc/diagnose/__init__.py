"""Diagnose a running deployment: a Prometheus scrape of vLLM's or SGLang's /metrics next to the model
(docs/diagnose.md). Reading a scrape needs prometheus_client (the optional extra `diagnose`); importing
this package does not."""

from .compare import diagnose
from .observed import Observed, observe
from .scrape import Scrape, read_scrape

__all__ = ["Observed", "Scrape", "diagnose", "observe", "read_scrape"]
