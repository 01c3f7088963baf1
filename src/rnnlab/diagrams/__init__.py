"""Matplotlib drawings used by the book: boxes, arrows and the course's diagrams.

Every figure of the book that is a drawing rather than a plot of results is
drawn by code here, so that it can be regenerated, corrected and restyled in
one place. One module holds what the drawings share, then one module per
chapter, named by the chapter's slug (``book/<slug>.md``):

common
    The colours by role (:data:`COLORS`), the fonts and the building blocks
    :func:`new_canvas`, :func:`box`, :func:`op_node`, :func:`arrow` and
    :func:`matrix_block`; the colour convention is in its docstring.
sequences
    *Sequences*: ``draw_architectures``, ``draw_recurrence_kinds``.
rnn
    *The vanilla RNN*: ``draw_unrolled_rnn``, ``draw_step_graph``, ``draw_concatenation``.
bptt
    *Backpropagation through time*: ``draw_bptt_graph``, ``draw_two_descendants``,
    ``draw_tbptt_windows``, ``draw_clipping``, ``draw_char_lm``.
lstm
    *Long short-term memory*: ``draw_sigmoid``, ``draw_lstm_cell`` (and its
    stages, ``LSTM_STAGES``), ``draw_lstm_gate_steps``.
gru
    *Gated recurrent units*: ``draw_gru_cell``, ``draw_gru_candidate_forms``.
bidirectional
    *Bidirectional and stacked RNNs*: ``draw_birnn``, ``draw_stacked_birnn``,
    ``draw_padded_batch`` and the two directions' colours, ``DIRECTION_COLORS``.

The chapters' modules import :mod:`~rnnlab.diagrams.common` and never each
other. Every public name of every module is re-exported here, so a chapter
can write ``from rnnlab import diagrams`` and call ``diagrams.draw_lstm_cell()``.
Each diagram returns the Figure it drew, or draws on an Axes passed as ``ax``.
"""

from __future__ import annotations

from .bidirectional import DIRECTION_COLORS, draw_birnn, draw_padded_batch, draw_stacked_birnn
from .bptt import draw_bptt_graph, draw_char_lm, draw_clipping, draw_tbptt_windows, draw_two_descendants
from .common import COLORS, arrow, box, matrix_block, new_canvas, op_node
from .gru import draw_gru_candidate_forms, draw_gru_cell
from .lstm import LSTM_STAGES, draw_lstm_cell, draw_lstm_gate_steps, draw_sigmoid
from .rnn import draw_concatenation, draw_step_graph, draw_unrolled_rnn
from .sequences import draw_architectures, draw_recurrence_kinds

__all__ = [
    # common
    "COLORS",
    "new_canvas",
    "box",
    "op_node",
    "arrow",
    "matrix_block",
    # sequences
    "draw_architectures",
    "draw_recurrence_kinds",
    # rnn
    "draw_unrolled_rnn",
    "draw_step_graph",
    "draw_concatenation",
    # bptt
    "draw_bptt_graph",
    "draw_two_descendants",
    "draw_tbptt_windows",
    "draw_clipping",
    "draw_char_lm",
    # lstm
    "draw_sigmoid",
    "LSTM_STAGES",
    "draw_lstm_cell",
    "draw_lstm_gate_steps",
    # gru
    "draw_gru_cell",
    "draw_gru_candidate_forms",
    # bidirectional
    "DIRECTION_COLORS",
    "draw_birnn",
    "draw_stacked_birnn",
    "draw_padded_batch",
]
