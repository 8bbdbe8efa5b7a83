"""The maps layer: pretrained models (timm), their Keras weight import and layer tables, CAM and Grad-CAM,
saliency, the per-image maps guided methods are steered by, and pooling. It builds on the engine
(`mixviz.types`, `imaging`, `sampling`) and never imports `mixviz.viz`. timm, OpenCV, GCO and h5py are
imported by the functions that need them, when first called."""
