package dev.rnn.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The one warning when netlib falls back to a pure-Java BLAS, and none for the native one. */
class BlasTest {
  @ParameterizedTest
  @ValueSource(strings = {"Java11BLAS", "Java8BLAS", "VectorBLAS", "F2jBLAS"})
  void aPureJavaBlasIsNamedWithWhyAndHowToGetTheNativeOne(String implementation) {
    assertEquals(Optional.of("rnn: matrix products run on netlib's pure-Java BLAS ("
        + implementation + "), 5 to 20 times slower than a native one, because netlib could not"
        + " load a native BLAS. It needs libblas.so.3 on the library path (on Debian/Ubuntu:"
        + " apt-get install libopenblas0-pthread) and its own dependency"
        + " net.sourceforge.f2j:arpack_combined_all on the class path (do not exclude it). The"
        + " results are the same; Tensor.blasImplementation() names the BLAS in use (JNIBLAS is"
        + " the native one)."), Blas.warning(implementation));
  }

  @Test
  void theNativeBlasIsNotWarnedAbout() {
    assertEquals(Optional.empty(), Blas.warning("JNIBLAS"));
  }
}
