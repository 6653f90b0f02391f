"""gt.keras: Keras-style layers, models and training (submodules import by full path for now)."""
