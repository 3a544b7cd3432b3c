"""The method: the image-text towers, the dual prompting (KAP, CAP), IFM, DMA, the model that
joins them, its typed configuration and the losses — one module per part, each citing its
equations."""
