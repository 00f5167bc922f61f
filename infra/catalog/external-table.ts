import * as glue from 'aws-cdk-lib/aws-glue';
import type { Construct } from 'constructs';

/** A column of a Glue table: Hive type names (`string`, `double`, `timestamp`, `int`). */
export interface Column {
  readonly name: string;
  readonly type: string;
  readonly comment?: string;
}

/**
 * Storage format of the files a table reads. `*-manifest` tables read, per partition, the files
 * listed in the manifest files of its folder (Hive's SymlinkTextInputFormat; Athena picks the
 * reader from the SerDe), not the folder itself.
 */
export type TableFormat = 'lines-manifest' | 'lines' | 'parquet-manifest' | 'parquet';

/** Options for {@link externalTable}. */
export interface ExternalTableOptions {
  readonly database: glue.CfnDatabase;
  readonly databaseName: string;
  readonly tableName: string;
  readonly description: string;
  readonly format: TableFormat;
  readonly columns: readonly Column[];
  readonly partitionKeys?: readonly Column[];
  /** `s3://bucket/prefix/`: the table root; with projection only a fallback. */
  readonly location: string;
  /** Table parameters such as partition projection, merged over `classification`. */
  readonly parameters?: Record<string, string>;
}

const SYMLINK_INPUT = 'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat';
const TEXT_OUTPUT = 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat';
const PARQUET_SERDE: glue.CfnTable.SerdeInfoProperty = {
  serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
  parameters: { 'serialization.format': '1' },
};

const STORAGE: Record<TableFormat, glue.CfnTable.StorageDescriptorProperty> = {
  // Each line as one string column: LazySimpleSerDe with a single column hands over the text up to
  // the first field delimiter (\u0001, which a valid JSON line never holds raw), nothing re-written,
  // and `.gz` files are decompressed by their extension. Trino reads a symlink target of this
  // SerDe as TEXTFILE (HiveUtil.getInputFormat: "LazySimpleSerDe is used by TEXTFILE and
  // SEQUENCEFILE. Default to TEXTFILE").
  'lines-manifest': {
    inputFormat: SYMLINK_INPUT,
    outputFormat: TEXT_OUTPUT,
    serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe', parameters: { 'serialization.format': '1' } },
  },
  // The same reading of the files of the table's own folder (the uploaded lists).
  lines: {
    inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
    outputFormat: TEXT_OUTPUT,
    serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe', parameters: { 'serialization.format': '1' } },
  },
  'parquet-manifest': { inputFormat: SYMLINK_INPUT, outputFormat: TEXT_OUTPUT, serdeInfo: PARQUET_SERDE },
  parquet: {
    inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
    outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
    serdeInfo: PARQUET_SERDE,
  },
};

const CLASSIFICATION: Record<TableFormat, string> = {
  'lines-manifest': 'text',
  lines: 'text',
  'parquet-manifest': 'parquet',
  parquet: 'parquet',
};

/** An `EXTERNAL_TABLE` in the Glue Data Catalog over files in S3, created after its database. */
export function externalTable(scope: Construct, id: string, options: ExternalTableOptions): glue.CfnTable {
  const table = new glue.CfnTable(scope, id, {
    catalogId: options.database.catalogId,
    databaseName: options.databaseName,
    tableInput: {
      name: options.tableName,
      description: options.description,
      tableType: 'EXTERNAL_TABLE',
      parameters: {
        EXTERNAL: 'TRUE',
        classification: CLASSIFICATION[options.format],
        ...options.parameters,
      },
      partitionKeys: options.partitionKeys?.map(toColumn),
      storageDescriptor: {
        ...STORAGE[options.format],
        location: options.location,
        columns: options.columns.map(toColumn),
      },
    },
  });
  // databaseName is a plain string, so CloudFormation would not know the order otherwise.
  table.addResourceDependency(options.database);
  return table;
}

function toColumn(column: Column): glue.CfnTable.ColumnProperty {
  return { name: column.name, type: column.type, comment: column.comment };
}
