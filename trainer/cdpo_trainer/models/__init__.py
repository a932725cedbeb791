"""Model directories: reading configs and ids, loading, saving, the ONNX export, tiny test models."""
