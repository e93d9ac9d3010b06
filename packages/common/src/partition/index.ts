// Partitioned tables: partition names and specs, the partition value of a typed row value,
// auto-partition time values in a time zone, retention and the auto-partition table options.
export * from "./auto-partition.ts";
export { javaDoubleToString, javaFloatToString } from "./java-number-text.ts";
export * from "./naming.ts";
export {
  AUTO_PARTITION_TIME_UNITS,
  type AutoPartitionTimeUnit,
  defaultTimeFormat,
  type TimeFormat,
  timeFormatOf,
  validateTimeFormat,
} from "./time-format.ts";
export {
  datePartitionText,
  hexOfBytes,
  isPartitionKeyType,
  PARTITION_KEY_TYPES,
  partitionValueOf,
  timePartitionText,
  timestampPartitionText,
} from "./values.ts";
export { type LocalDateTime, localAt, type ResolvedZone, resolveZone, systemTimeZone } from "./zoned-time.ts";
