"""Hand-written tokenizers: characters, words, and byte-level BPE (GPT-2 compatible)."""
from tokenizer.base import Tokenizer, load_tokenizer
from tokenizer.char import CharTokenizer
from tokenizer.word import WordTokenizer
from tokenizer.bpe import BPETokenizer

__all__ = ['Tokenizer', 'load_tokenizer', 'CharTokenizer', 'WordTokenizer', 'BPETokenizer']
