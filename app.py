"""Start GAN Studio: `python app.py [--host H] [--port P] [--share]`."""

import argparse
import os

from demo.app import build_app


def main() -> None:
    p = argparse.ArgumentParser(description="GAN Studio web app")
    p.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    p.add_argument("--share", action="store_true", help="also serve through a public Gradio share link")
    args = p.parse_args()
    build_app().queue(default_concurrency_limit=4, max_size=64).launch(
        server_name=args.host, server_port=args.port, share=args.share
    )


if __name__ == "__main__":
    main()
