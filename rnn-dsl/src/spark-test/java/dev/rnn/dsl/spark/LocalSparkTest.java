package dev.rnn.dsl.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The profile's plumbing: a {@code local[2]} Spark context runs on Java 17 without extra flags. */
class LocalSparkTest {
  private static JavaSparkContext sc;

  @BeforeAll static void start() {
    sc = new JavaSparkContext(new SparkConf().setMaster("local[2]").setAppName("LocalSparkTest")
        .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
        .set("spark.driver.bindAddress", "127.0.0.1"));
  }

  @AfterAll static void stop() {
    sc.stop();
  }

  @Test void aJobOnTwoPartitionsSumsWhatEachPartitionHolds() {
    int sum = sc.parallelize(List.of(1, 2, 3, 4, 5, 6, 7, 8), 2)
        .mapPartitions(it -> {
          int s = 0;
          while (it.hasNext()) {
            s += it.next();
          }
          return List.of(s).iterator();
        })
        .reduce(Integer::sum);
    assertEquals(36, sum);
  }
}
