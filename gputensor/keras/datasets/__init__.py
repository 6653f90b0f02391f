"""gt.keras.datasets: public data sets, downloaded once into a cache (``~/.gputensor/datasets``)."""

from gputensor.keras.datasets import mnist

__all__ = ["mnist"]
