"""Generated protobuf code of ``schemas/proto/dnt_twin.proto`` (protoc 3.21; do not edit, regenerate)."""
