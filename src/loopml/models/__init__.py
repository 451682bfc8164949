"""Model flavors and signatures: save a model to a folder, and load it back only if it is intact.

Model libraries are imported only by the flavor that needs them, when it needs them.
"""

from loopml.models.flavors.python import PythonModel
from loopml.models.format import (
    MODEL_META_FILE,
    ModelMeta,
    files_digest,
    folder_manifest,
    read_meta,
    write_meta,
)
from loopml.models.loaded import LoadedModel
from loopml.models.save import INPUT_EXAMPLE_FILE, load_model_folder, save_model
from loopml.models.signature import (
    ColumnSpec,
    ModelSignature,
    infer_signature,
    validate_input,
)

__all__ = [
    "INPUT_EXAMPLE_FILE",
    "MODEL_META_FILE",
    "ColumnSpec",
    "LoadedModel",
    "ModelMeta",
    "ModelSignature",
    "PythonModel",
    "files_digest",
    "folder_manifest",
    "infer_signature",
    "load_model_folder",
    "read_meta",
    "save_model",
    "validate_input",
    "write_meta",
]
