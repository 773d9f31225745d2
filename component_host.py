"""Entry point of the component package (PulumiPlugin.yaml `main`): serves StreamPipeline.

Pulumi runs this file when a program that added the package (`pulumi package add`) needs
its schema or constructs a StreamPipeline. Not the stack program: that is __main__.py.
"""

from components.package import host

if __name__ == "__main__":
    host()
