package io.vrsky.producer.write;

import io.vrsky.core.retry.Retrier;
import io.vrsky.producer.catalog.SchemaCatalog;
import io.vrsky.producer.catalog.TableWhitelist;
import io.vrsky.producer.dlq.DeadLetterSink;
import io.vrsky.producer.metrics.ProducerMetrics;
import io.vrsky.producer.plan.ChangeValidator;
import io.vrsky.producer.plan.ConflictStrategy;
import io.vrsky.producer.plan.SchemaPolicy;
import io.vrsky.producer.position.AppliedPositions;
import io.vrsky.producer.sql.SqlStatementBuilder;

import javax.sql.DataSource;

/** What the two writers share: the pool, the catalog and its checks, the SQL, the positions, retries and the DLQ. */
public final class WriterContext {

    private final DataSource dataSource;
    private final SchemaCatalog catalog;
    private final SchemaPolicy schema;
    private final ChangeValidator validator;
    private final SqlExecutor executor;
    private final AppliedPositions positions;
    private final Retrier retrier;
    private final DeadLetterSink deadLetters;
    private final ProducerMetrics metrics;

    public WriterContext(DataSource dataSource, SchemaCatalog catalog, TableWhitelist whitelist, ConflictStrategy strategy,
                         SqlStatementBuilder sql, AppliedPositions positions, Retrier retrier, DeadLetterSink deadLetters,
                         ProducerMetrics metrics) {
        this(dataSource, catalog, whitelist, strategy, sql, positions, retrier, deadLetters, metrics, SchemaPolicy.PAUSE_ON_MISSING);
    }

    /**
     * @param schema what a change whose column list differs from the sink table means (pause, or
     *               change the sink table in the same sink transaction); told when the writers commit
     *               or roll back
     */
    public WriterContext(DataSource dataSource, SchemaCatalog catalog, TableWhitelist whitelist, ConflictStrategy strategy,
                         SqlStatementBuilder sql, AppliedPositions positions, Retrier retrier, DeadLetterSink deadLetters,
                         ProducerMetrics metrics, SchemaPolicy schema) {
        this.dataSource = dataSource;
        this.catalog = catalog;
        this.schema = schema;
        this.validator = new ChangeValidator(catalog, whitelist, strategy, schema);
        this.executor = new SqlExecutor(sql);
        this.positions = positions;
        this.retrier = retrier;
        this.deadLetters = deadLetters;
        this.metrics = metrics;
    }

    DataSource dataSource() {
        return dataSource;
    }

    SchemaCatalog catalog() {
        return catalog;
    }

    SchemaPolicy schema() {
        return schema;
    }

    ChangeValidator validator() {
        return validator;
    }

    SqlExecutor executor() {
        return executor;
    }

    AppliedPositions positions() {
        return positions;
    }

    Retrier retrier() {
        return retrier;
    }

    DeadLetterSink deadLetters() {
        return deadLetters;
    }

    ProducerMetrics metrics() {
        return metrics;
    }
}
