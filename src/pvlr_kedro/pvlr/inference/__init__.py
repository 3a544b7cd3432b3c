"""A trained model at work: the Predictor, the ONNX export and its ONNX Runtime engine."""
