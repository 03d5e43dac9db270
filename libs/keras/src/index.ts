// Keras in JavaScript, apart from the server (as Triton keeps converters out of its core): reading a Keras 2.x
// `.h5` file into a TF.js LayersModel, and compiling a LayersModel to an ONNX graph for onnxruntime.

export { KerasModelError } from './keras-model-error';

// Reading .h5: HDF5, the Keras config, weights, custom and Lambda layers.
export { H5File, type H5Limits } from './h5/h5-file';
export { DEFAULT_KERAS_H5_LIMITS, loadKerasH5Model, type KerasH5Limits } from './h5/keras-h5-model';
export { checkLambdaLayers, type LambdaClip } from './h5/lambda-layers';

// Compiling TF.js layers to ONNX.
export { convertLayersModelToOnnx } from './onnx/layers-to-onnx';
