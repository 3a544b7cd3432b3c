"""Images in, tensors out: the image loader, the test-time and training transforms with their
samplers, and the image cache."""
