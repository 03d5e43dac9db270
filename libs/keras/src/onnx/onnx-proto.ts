import { parse, type Type } from 'protobufjs';

/**
 * The part of ONNX's `onnx.proto3` (IR version 8) a converted image classifier needs: a model with one graph of
 * nodes, float initializers, and typed inputs/outputs. Field numbers are the standard's, so any ONNX reader
 * (onnxruntime, netron, onnx.checker) reads the result.
 */
const ONNX_SUBSET = `
syntax = "proto3";
package onnx;

message AttributeProto {
  enum AttributeType { UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; FLOATS = 6; INTS = 7; }
  string name = 1;
  AttributeType type = 20;
  float f = 2;
  int64 i = 3;
  bytes s = 4;
  TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
}

message ValueInfoProto {
  string name = 1;
  TypeProto type = 2;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  string name = 3;
  string op_type = 4;
  repeated AttributeProto attribute = 5;
  string domain = 7;
}

message ModelProto {
  int64 ir_version = 1;
  string producer_name = 2;
  string producer_version = 3;
  string doc_string = 6;
  GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
}

message GraphProto {
  repeated NodeProto node = 1;
  string name = 2;
  repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}

message TensorProto {
  repeated int64 dims = 1;
  int32 data_type = 2;
  string name = 8;
  bytes raw_data = 9;
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    int32 elem_type = 1;
    TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
}

message OperatorSetIdProto {
  string domain = 1;
  int64 version = 2;
}
`;

/** TensorProto.DataType values used here. */
export const ONNX_FLOAT = 1;
export const ONNX_UINT8 = 2;
export const ONNX_INT64 = 7;

export const ATTRIBUTE_TYPE = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

export interface OnnxTensor {
  name: string;
  dims: number[];
  data_type: number;
  raw_data: Uint8Array;
}

export interface OnnxAttribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: OnnxTensor;
  floats?: number[];
  ints?: number[];
}

export interface OnnxNode {
  op_type: string;
  name: string;
  input: string[];
  output: string[];
  attribute: OnnxAttribute[];
}

/** A dimension is a fixed size or a symbolic name (`batch`). */
export type OnnxDim = number | string;

export interface OnnxValueInfo {
  name: string;
  elemType: number;
  shape: OnnxDim[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

let modelType: Type | undefined;

function valueInfo({ name, elemType, shape }: OnnxValueInfo) {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: elemType,
        shape: {
          dim: shape.map((dim) => (typeof dim === 'number' ? { dim_value: dim } : { dim_param: dim })),
        },
      },
    },
  };
}

/** Serialises a graph as an ONNX model file (IR 8, default opset `opset`). */
export function encodeOnnxModel(
  graph: OnnxGraph,
  opset: number,
  producer: { name: string; version: string },
): Uint8Array {
  modelType ??= parse(ONNX_SUBSET, { keepCase: true }).root.lookupType('onnx.ModelProto');
  const model = {
    ir_version: 8,
    producer_name: producer.name,
    producer_version: producer.version,
    opset_import: [{ domain: '', version: opset }],
    graph: {
      name: graph.name,
      node: graph.nodes,
      initializer: graph.initializers,
      input: graph.inputs.map(valueInfo),
      output: graph.outputs.map(valueInfo),
    },
  };
  const problemText = modelType.verify(model);
  if (problemText) throw new Error(`Invalid ONNX model: ${problemText}`);
  return modelType.encode(modelType.fromObject(model)).finish();
}
