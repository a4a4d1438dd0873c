"""
The playground: a local web page to watch a model write, look inside each step, compare models,
see how the tokenizers cut a text and where a GPT's heads look.

    python serve.py                               # every trained run found: models/*, out*/, results/*/runs/*
    python serve.py --out_dir=out-gpt,out-gru     # just these runs
    python serve.py --init_from=path/to/gpt2-folder --port=8080

Then open the address it prints. Options and their defaults: `python serve.py --help` (the
ServeConfig in nanopushkin/playground.py). The server and the page are in nanopushkin/playground.py
and nanopushkin/playground_page/.
"""
import sys

from nanopushkin.config import main_parse
from nanopushkin.devices import resolve_device
from nanopushkin.playground import PlaygroundServer, ServeConfig, build_playground, check_serve_config


def main(argv):
    cfg = main_parse(ServeConfig, argv, config_file_allowed=False)
    try:
        check_serve_config(cfg)
        cfg.device = resolve_device(cfg.device)
        playground = build_playground(cfg)
    except (ValueError, OSError) as e:          # a bad option or folder, no network for the hub
        print(f'error: {e}', file=sys.stderr)
        sys.exit(2)
    try:
        server = PlaygroundServer(playground, cfg.host, cfg.port)
    except OSError as e:
        print(f'error: cannot listen on {cfg.host}:{cfg.port} ({e.strerror}); is another server there? '
              'Choose another with --port', file=sys.stderr)
        sys.exit(2)
    if not server.loopback_only:
        print(f'warning: --host={cfg.host} lets other machines use this server (and its CPU); '
              'it has no password. Use the default 127.0.0.1 unless you mean it.', file=sys.stderr)
    names = ', '.join(playground.models) or 'none (train one: python train.py config/gpt.py --out_dir=out-gpt)'
    print(f'models: {names}')
    print(f'tokenizers: {len(playground.tokenizers)}; style meter: {"yes" if playground.meter else "no"}')
    print(f'playground at {server.url} (Ctrl-C stops it)', flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print()
    finally:
        server.server_close()


if __name__ == '__main__':
    main(sys.argv[1:])
