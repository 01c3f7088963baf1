"""What each assignment's checks need besides the checks themselves: inputs and hints.

One module per assignment (``rnnlab.assignments.rnn``, ``.bptt``, ``.lstm``,
``.gru``, ``.bidirectional``, ``.seq2seq``) holds

- the input builders its check cells call (``step_inputs``,
  ``saturated_step_inputs``, ...), which learners can call too, to experiment;
- the hints its checks print, one per quantity (output or gradient) plus one
  for when every gradient is wrong. A hint says where to look and which mistake
  is usual; it never writes the right-hand side of a graded equation;
- small adapters that let the generic checks call a learner's function whose
  signature they do not know (the learner's function is an argument: an
  adapter never refers to a function the learner has not written).

Nothing here computes what a graded function computes.
"""
