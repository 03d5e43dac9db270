import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Layer, SymbolicTensor } from '@tensorflow/tfjs-layers/dist/engine/topology';
import { ConversionContext, UnsupportedLayerError, type Value } from './conversion-context';
import { KERAS_LAYER_CONVERTERS } from './keras-layer-converters';
import { LAYER_CONVERTERS } from './layer-converters';
import { OnnxGraphBuilder } from './onnx-graph-builder';
import { encodeOnnxModel } from './onnx-proto';

/** Opset 13: Softmax over one axis, Clip/Pad bounds as inputs; served by every onnxruntime since 1.6. */
export const ONNX_OPSET = 13;

export interface OnnxConversion {
  /** The serialised ONNX model: input `input` float32 [batch, h, w, c] (channels last, like the source). */
  bytes: Uint8Array;
  nodeCount: number;
}

/** A tensor id → its converted value, for one call of one (possibly nested) model. */
type Scope = Map<number, Value>;

function isNestedModel(layer: Layer): layer is Layer & Pick<LayersModel, 'inputs' | 'outputs' | 'layers'> {
  const candidate = layer as Partial<LayersModel>;
  return (
    Array.isArray(candidate.layers) && Array.isArray(candidate.inputs) && Array.isArray(candidate.outputs)
  );
}

function convertTensor(tensor: SymbolicTensor, scope: Scope, ctx: ConversionContext): Value {
  const known = scope.get(tensor.id);
  if (known) return known;
  const layer = tensor.sourceLayer;
  const node = layer.inboundNodes[tensor.nodeIndex];
  if (!node || node.inputTensors.length === 0) {
    throw new UnsupportedLayerError(layer, 'is an input the model does not declare');
  }
  const inputs = node.inputTensors.map((input) => convertTensor(input, scope, ctx));
  let outputs: Value[];
  if (isNestedModel(layer)) {
    // A model used as a layer (e.g. a pretrained base inside a transfer-learning model): inline its graph.
    const inner: Scope = new Map(layer.inputs.map((input, i) => [input.id, inputs[i]]));
    outputs = layer.outputs.map((output) => convertTensor(output, inner, ctx));
  } else {
    const className = layer.getClassName();
    const converter = LAYER_CONVERTERS[className] ?? KERAS_LAYER_CONVERTERS[className];
    if (!converter) throw new UnsupportedLayerError(layer, 'this layer type is not converted');
    const config = layer.getConfig() as Record<string, unknown>;
    outputs = [
      converter({ layer, config, inputs, inputShapes: node.inputTensors.map((input) => input.shape) }, ctx),
    ];
  }
  if (outputs.length !== node.outputTensors.length) {
    throw new UnsupportedLayerError(layer, `has ${node.outputTensors.length} outputs`);
  }
  node.outputTensors.forEach((output, i) => scope.set(output.id, outputs[i]));
  return outputs[tensor.tensorIndex];
}

/**
 * Writes a Keras/TF.js layers model (an image classifier: one NHWC image input, one output) as an ONNX graph
 * with the same weights, so onnxruntime can run it. Float models only; anything it cannot express exactly
 * throws UnsupportedLayerError, naming the layer, and the caller keeps the model on tfjs.
 */
export function convertLayersModelToOnnx(model: LayersModel): OnnxConversion {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new UnsupportedLayerError(
      model.name,
      `has ${model.inputs.length} inputs and ${model.outputs.length} outputs`,
    );
  }
  const [input] = model.inputs;
  const [output] = model.outputs;
  if (input.shape.length !== 4)
    throw new UnsupportedLayerError(model.name, `input is rank ${input.shape.length}, not an image`);
  if (input.dtype !== 'float32') throw new UnsupportedLayerError(model.name, `input is ${input.dtype}`);
  const graph = new OnnxGraphBuilder(model.name);
  const ctx = new ConversionContext(graph);
  const [, height, width, channels] = input.shape;
  const inputName = graph.input('input', [
    'batch',
    height ?? 'height',
    width ?? 'width',
    channels ?? 'channels',
  ]);
  const scope: Scope = new Map([[input.id, { name: inputName, layout: 'keras', rank: 4 }]]);
  const result = ctx.keras(convertTensor(output, scope, ctx));
  graph.output(result.name, ['batch', ...output.shape.slice(1).map((dim, i) => dim ?? `d${i + 1}`)]);
  const built = graph.build();
  return {
    bytes: encodeOnnxModel(built, ONNX_OPSET, { name: 'food-vision-api', version: '1' }),
    nodeCount: built.nodes.length,
  };
}
