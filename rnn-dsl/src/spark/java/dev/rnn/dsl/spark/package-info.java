/**
 * Distributed training on Apache Spark: {@link dev.rnn.dsl.spark.SparkTrainer} trains a network
 * by synchronous data-parallel BPTT, exactly as {@link dev.rnn.dsl.Trainer#fit} does on one
 * machine, over an RDD of {@link dev.rnn.dsl.spark.Example}s or a data directory of safetensors
 * shards ({@link dev.rnn.dsl.spark.Shards}). Built only with the Maven profile {@code -Pspark};
 * Spark is a provided dependency.
 */
package dev.rnn.dsl.spark;
