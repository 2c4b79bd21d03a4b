"""Start GAN Studio: `python app.py [--host H] [--port P] [--share] [--auth USER:PASSWORD] [--no-mcp]`."""

import argparse
import os

from demo.app import build_app, launch_options


def main() -> None:
    p = argparse.ArgumentParser(description="GAN Studio web app")
    p.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    p.add_argument("--share", action="store_true", help="also serve through a public Gradio share link")
    p.add_argument("--auth", default=os.environ.get("GANSTUDIO_AUTH"),
                   help="require a login, USER:PASSWORD (or set GANSTUDIO_AUTH); advised with --share")
    p.add_argument("--no-mcp", action="store_true", help="do not serve the generate functions as MCP tools")
    args = p.parse_args()
    build_app().queue(**QUEUE).launch(**launch_options(args))


QUEUE = {"default_concurrency_limit": 4, "max_size": 64}

if __name__ == "__main__":
    main()
