"""An independent Open Inference Protocol gRPC client: Python grpcio with message classes that protoc generated
from the official open_inference_grpc.proto. Usage: oip_grpc_client.py <generated dir> <host:port> <model> <photo>...
Prints one JSON object: the health answers, the model metadata and each photo's top class (typed and raw)."""
import json
import struct
import sys

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
import open_inference_grpc_pb2 as pb  # noqa: E402

SERVICE = "/inference.GRPCInferenceService/"


def method(channel, name, request_type, response_type):
    return channel.unary_unary(
        SERVICE + name,
        request_serializer=request_type.SerializeToString,
        response_deserializer=response_type.FromString,
    )


def main():
    _, _, address, model, *photos = sys.argv
    channel = grpc.insecure_channel(address, options=[("grpc.max_receive_message_length", 64 << 20)])
    live = method(channel, "ServerLive", pb.ServerLiveRequest, pb.ServerLiveResponse)(pb.ServerLiveRequest())
    ready = method(channel, "ServerReady", pb.ServerReadyRequest, pb.ServerReadyResponse)(pb.ServerReadyRequest())
    metadata = method(channel, "ModelMetadata", pb.ModelMetadataRequest, pb.ModelMetadataResponse)(
        pb.ModelMetadataRequest(name=model)
    )
    infer = method(channel, "ModelInfer", pb.ModelInferRequest, pb.ModelInferResponse)
    images = [open(path, "rb").read() for path in photos]

    typed = pb.ModelInferRequest(model_name=model)
    tensor = typed.inputs.add(name="image", datatype="BYTES", shape=[len(images)])
    tensor.contents.bytes_contents.extend(images)
    output = typed.outputs.add(name="probabilities")
    output.parameters["classification"].int64_param = 1
    typed_answer = infer(typed, timeout=60)
    typed_top = [element.decode().split(":")[2] for element in typed_answer.outputs[0].contents.bytes_contents]

    raw = pb.ModelInferRequest(model_name=model)
    raw.inputs.add(name="image", datatype="BYTES", shape=[len(images)])
    raw.raw_input_contents.append(b"".join(struct.pack("<I", len(image)) + image for image in images))
    raw_answer = infer(raw, timeout=60)
    width = raw_answer.outputs[0].shape[1]
    values = struct.unpack("<%df" % (len(images) * width), raw_answer.raw_output_contents[0])
    raw_top = [max(range(width), key=lambda i: values[row * width + i]) for row in range(len(images))]

    try:
        infer(pb.ModelInferRequest(model_name="resnet50", inputs=[tensor]), timeout=10)
        missing = "OK"
    except grpc.RpcError as error:
        missing = error.code().name

    print(json.dumps({
        "live": live.live,
        "ready": ready.ready,
        "platform": metadata.platform,
        "outputs": [[o.name, o.datatype, list(o.shape)] for o in metadata.outputs],
        "typed_top": typed_top,
        "raw_top_index": raw_top,
        "raw_shape": list(raw_answer.outputs[0].shape),
        "missing_model": missing,
    }))


main()
