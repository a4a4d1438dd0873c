"""Train a language model on Pushkin.

    python train.py config/lstm.py                       # a config file of assignments
    python train.py config/gpt.py --max_iters=100 --device cpu
    python train.py config/gpt.py --init_from=resume     # continue the run in out_dir
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
    except (ValueError, FileNotFoundError) as e:
        print(f'error: {e}', file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)  # the checkpoint is saved and the message printed; no traceback


if __name__ == '__main__':
    main(sys.argv[1:])
