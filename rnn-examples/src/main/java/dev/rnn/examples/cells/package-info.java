/**
 * Cells written as a library user writes them: outside {@code dev.rnn.core}, implementing {@link
 * dev.rnn.core.Cell} and trained by the same scan, graph and BPTT as the built-in cells.
 */
package dev.rnn.examples.cells;
