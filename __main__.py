"""dynamodb-stream-processor: a DynamoDB Streams -> Lambda change-processing pipeline.

This program is one consumer of the StreamPipeline component (components/pipeline.py),
the same one other programs get through the component package: its inputs are this
stack's configuration sections, read from Pulumi.<stack>.yaml, and validated by
components/config/ before any resource is registered. A problem names the full config
key (`dynamodb-stream-processor:trigger.batchSize ...`), as it is written in the stack file.
"""

from typing import cast

import pulumi

from components.config import read_config_sections
from components.pipeline import StreamPipeline, StreamPipelineArgs
from components.pipeline_inputs import PipelineInputError

try:
    # The sections are the component's inputs as they are: one document, one parser.
    pipeline = StreamPipeline("pipeline", cast(StreamPipelineArgs, read_config_sections()))
except PipelineInputError as error:
    raise error.in_stack_file() from None
for output_name, value in pipeline.outputs().items():
    pulumi.export(output_name, value)
