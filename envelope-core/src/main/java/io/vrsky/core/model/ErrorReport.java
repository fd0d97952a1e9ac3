package io.vrsky.core.model;

import java.util.Objects;

/**
 * Why a dead-lettered transaction was not applied ({@code metadata.error} of a dead letter's
 * envelope). Never holds row values: {@code message} is PostgreSQL's primary message (never its
 * {@code Detail:} line) or the service's own reason. Every field but {@code errorClass} and
 * {@code message} may be null.
 *
 * @param errorClass {@code decode}, {@code validation}, {@code sql} or {@code publish}
 */
public record ErrorReport(String errorClass, String message, String sqlState, String constraint, String schema, String table,
                          String column) {
    public ErrorReport {
        Objects.requireNonNull(errorClass, "errorClass");
        Objects.requireNonNull(message, "message");
    }
}
