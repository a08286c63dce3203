package dev.rnn.dsl.spark;

import org.apache.spark.sql.SparkSession;

/** The {@code local[2]} Spark session of the tests: two executor threads, no web UI. */
final class LocalSpark {
  private LocalSpark() {}

  static SparkSession session(String appName) {
    return SparkSession.builder().master("local[2]").appName(appName)
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate();
  }
}
