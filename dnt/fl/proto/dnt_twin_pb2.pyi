from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Forecast(_message.Message):
    __slots__ = ["cell_id", "cluster_id", "model_version", "start_ms", "step_ms", "values"]
    CELL_ID_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    START_MS_FIELD_NUMBER: _ClassVar[int]
    STEP_MS_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    cell_id: int
    cluster_id: int
    model_version: int
    start_ms: int
    step_ms: int
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, cell_id: _Optional[int] = ..., start_ms: _Optional[int] = ..., step_ms: _Optional[int] = ..., values: _Optional[_Iterable[float]] = ..., model_version: _Optional[int] = ..., cluster_id: _Optional[int] = ...) -> None: ...

class GlobalTwin(_message.Message):
    __slots__ = ["cluster_id", "created_ms", "sha256", "tensors", "version"]
    CLUSTER_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_MS_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    TENSORS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    cluster_id: int
    created_ms: int
    sha256: str
    tensors: _containers.RepeatedCompositeFieldContainer[Tensor]
    version: int
    def __init__(self, version: _Optional[int] = ..., tensors: _Optional[_Iterable[_Union[Tensor, _Mapping]]] = ..., sha256: _Optional[str] = ..., cluster_id: _Optional[int] = ..., created_ms: _Optional[int] = ...) -> None: ...

class Tensor(_message.Message):
    __slots__ = ["data", "name", "shape"]
    DATA_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    name: str
    shape: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, name: _Optional[str] = ..., shape: _Optional[_Iterable[int]] = ..., data: _Optional[bytes] = ...) -> None: ...

class TwinUpdate(_message.Message):
    __slots__ = ["auth_tag", "base_version", "client_id", "cluster_id", "created_ms", "delta", "nonce", "num_samples", "staleness"]
    AUTH_TAG_FIELD_NUMBER: _ClassVar[int]
    BASE_VERSION_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_MS_FIELD_NUMBER: _ClassVar[int]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    NONCE_FIELD_NUMBER: _ClassVar[int]
    NUM_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    STALENESS_FIELD_NUMBER: _ClassVar[int]
    auth_tag: bytes
    base_version: int
    client_id: str
    cluster_id: int
    created_ms: int
    delta: _containers.RepeatedCompositeFieldContainer[Tensor]
    nonce: bytes
    num_samples: int
    staleness: int
    def __init__(self, client_id: _Optional[str] = ..., cluster_id: _Optional[int] = ..., base_version: _Optional[int] = ..., delta: _Optional[_Iterable[_Union[Tensor, _Mapping]]] = ..., num_samples: _Optional[int] = ..., staleness: _Optional[int] = ..., created_ms: _Optional[int] = ..., nonce: _Optional[bytes] = ..., auth_tag: _Optional[bytes] = ...) -> None: ...
