import * as glue from 'aws-cdk-lib/aws-glue';
import type { Construct } from 'constructs';

/** A column of a Glue table: Hive type names (`string`, `double`, `timestamp`, `int`). */
export interface Column {
  readonly name: string;
  readonly type: string;
  readonly comment?: string;
}

/** Storage format of the files a table reads. */
export type TableFormat = 'json' | 'parquet';

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

const STORAGE: Record<TableFormat, glue.CfnTable.StorageDescriptorProperty> = {
  json: {
    inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
    outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
    serdeInfo: {
      serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
      parameters: {
        // A malformed line becomes an all-null row, which the engine counts as an invalid
        // row (SPEC 1) instead of failing the whole refresh.
        'ignore.malformed.json': 'true',
        // Our column names are lower case already; case-insensitive mode in the original
        // OpenX SerDe also lower-cases the keys inside `properties`, which are case-sensitive.
        'case.insensitive': 'false',
      },
    },
  },
  parquet: {
    inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
    outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
    serdeInfo: {
      serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
      parameters: { 'serialization.format': '1' },
    },
  },
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
        classification: options.format,
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
