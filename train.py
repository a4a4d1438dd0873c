"""Train a language model on Pushkin.

    python train.py config/lstm.py                       # a config file of assignments
    python train.py config/gpt.py --max_iters=100 --device cpu
    python train.py config/gpt.py --init_from=resume     # continue the run in out_dir
    python train.py config/gpt.py --overwrite=True       # start over, replacing the run in out_dir
    torchrun --standalone --nproc_per_node=2 train.py config/gpt.py --gradient_accumulation_steps=2

Every option is a field of TrainConfig (nanopushkin/config.py); `python train.py --help` lists them.
The loop itself is nanopushkin/trainer.py.
"""
import sys

from nanopushkin.config import TrainConfig, main_parse


def main(argv):
    config = main_parse(TrainConfig, argv)
    from nanopushkin.trainer import train  # imports torch (seconds): not needed for --help or a typo
    try:
        train(config)
    except ValueError as e:  # bad options or data, a diverged loss, a busy or trained out_dir
        print(f'error: {e}', file=sys.stderr)
        sys.exit(1)
    except OSError as e:  # a missing file, a full disk, a folder we may not write to
        where = f' ({e.filename})' if e.filename else ''
        print(f'error: {e.strerror or e}{where}', file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)  # the checkpoint is saved and the message printed; no traceback


if __name__ == '__main__':
    main(sys.argv[1:])
