"""dynamodb-stream-processor: a DynamoDB Streams -> Lambda change-processing pipeline.

Configuration: Pulumi.<stack>.yaml, validated by components/config.py before any
resource is registered. Resources: components/pipeline.py.
"""

import pulumi

from components.config import load_config
from components.pipeline import StreamPipeline, StreamPipelineArgs

config = load_config()
pipeline = StreamPipeline("pipeline", StreamPipelineArgs(config))
for output_name, value in pipeline.outputs().items():
    pulumi.export(output_name, value)
