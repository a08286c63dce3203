/**
 * Cells written as a library user writes them: outside {@code dev.rnn.core}, implementing {@link
 * dev.rnn.core.Cell} and trained by the same scan, graph and BPTT as the built-in cells. {@link
 * dev.rnn.examples.cells.CifgLstmCell} reads its projections only through their sum and declares
 * so, taking the scan's fast path as the built-in LSTM does; {@link
 * dev.rnn.examples.cells.LayerNormLstmCell} normalises each projection apart and does not.
 */
package dev.rnn.examples.cells;
