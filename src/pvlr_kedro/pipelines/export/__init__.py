"""Export a trained run's model as ONNX."""
