"""Prediction with a trained run's model: new images, new class names, attention pictures."""
