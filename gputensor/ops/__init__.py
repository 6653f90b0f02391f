"""Public op functions by family. Each module declares its ops in the op table once."""
