package dev.rnn.examples.train;

import com.google.common.collect.ImmutableList;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The training experiments of the {@code train} command, each a real training run (or several)
 * that prints its numbers and writes a loss log (CSV) and plots (PNG).
 */
public enum Example {
  /** Next-step prediction of noisy sine waves; see {@link Sine}. */
  SINE("sine", "next-step prediction of noisy sine waves (MSE) against repeating the last value") {
    @Override public ImmutableList<Path> run(Setup setup) throws IOException {
      return Sine.run(setup).files();
    }
  },
  /** The adding problem, Elman vs LSTM vs GRU; see {@link Adding}. */
  ADDING("adding", "the adding problem at length 50 and 100: Elman vs LSTM vs GRU, and the"
      + " gradient norm through time") {
    @Override public ImmutableList<Path> run(Setup setup) throws IOException {
      return Adding.run(setup).files();
    }
  },
  /** A character-level language model, full vs truncated BPTT; see {@link CharLm}. */
  CHARLM("charlm", "a character-level language model of Genesis 1-12 (King James Version):"
      + " full vs truncated BPTT, sampled text") {
    @Override public ImmutableList<Path> run(Setup setup) throws IOException {
      return CharLm.run(setup).files();
    }
  },
  /** Balanced brackets, sentences of different lengths classified; see {@link Brackets}. */
  BRACKETS("brackets", "is a string of brackets balanced? sentences of different lengths as"
      + " token ids, classified by an LSTM over each one's own steps") {
    @Override public ImmutableList<Path> run(Setup setup) throws IOException {
      return Brackets.run(setup).files();
    }
  },
  /** The adding problem at T = 150, IRNN vs Elman vs LSTM vs GRU; see {@link Irnn}. */
  IRNN("irnn", "the adding problem at length 150 as in Le, Jaitly & Hinton (2015): an IRNN"
      + " (identity recurrent matrix, relu) vs Elman (tanh), LSTM and GRU") {
    @Override public ImmutableList<Path> run(Setup setup) throws IOException {
      return Irnn.run(setup).files();
    }
  };

  private final String id;
  private final String summary;

  Example(String id, String summary) {
    this.id = id;
    this.summary = summary;
  }

  /** {@return the name on the command line, e.g. {@code sine}} */
  public String id() {
    return id;
  }

  /**
   * What it does, in one line.
   *
   * @return the summary
   */
  public String summary() {
    return summary;
  }

  /**
   * Runs the example: trains, prints the results to {@code setup.report()} and writes its files
   * into {@code setup.dir()}, which it returns.
   *
   * @param setup the seed, epochs, size, directory and outputs
   * @return the files written
   * @throws IOException if a file cannot be written
   */
  public abstract ImmutableList<Path> run(Setup setup) throws IOException;

  /**
   * The example named {@code id}, if there is one.
   *
   * @param id the name
   * @return the example, if any
   */
  public static Optional<Example> find(String id) {
    return Stream.of(values()).filter(e -> e.id.equals(id)).findFirst();
  }

  /** {@return the names, as a list for messages: {@code sine, adding, charlm, brackets, irnn}} */
  public static String ids() {
    return Stream.of(values()).map(Example::id).collect(Collectors.joining(", "));
  }
}
