package io.vrsky.admin.dlq;

import io.vrsky.admin.AdminFailure;
import io.vrsky.admin.connect.Pg;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Optional;

/**
 * What the sink's {@code vrsky_applied_position} says about a replay id: the producer records
 * {@code replay:<id>} in the same transaction that applied the replay (or moved past it by
 * dead-lettering it again), and skips the id from then on. Asked before publishing, so that a
 * replay the producer would skip is refused with a reason instead of vanishing.
 */
public final class ReplayLedger {

    private final Pg sink;

    public ReplayLedger(Pg sink) {
        this.sink = sink;
    }

    /** When the producer handled replay {@code id}, or empty when it has not (or no producer wrote to this sink yet). */
    public Optional<Instant> handledAt(String id) throws AdminFailure {
        try {
            try (PreparedStatement s = sink.connection().prepareStatement("SELECT to_regclass('public.vrsky_applied_position') IS NOT NULL");
                 ResultSet rs = s.executeQuery()) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    return Optional.empty();
                }
            }
            try (PreparedStatement s = sink.connection().prepareStatement(
                    "SELECT updated_at FROM public.vrsky_applied_position WHERE source = ?")) {
                s.setString(1, "replay:" + id);
                try (ResultSet rs = s.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    Timestamp t = rs.getTimestamp(1);
                    return Optional.of(t == null ? Instant.EPOCH : t.toInstant());
                }
            }
        } catch (SQLException e) {
            throw sink.failure("reading vrsky_applied_position", e);
        }
    }
}
