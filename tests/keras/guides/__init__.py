"""Keras guide conformance: the code of TensorFlow's Keras guides run with ``tf`` -> ``gt``."""
