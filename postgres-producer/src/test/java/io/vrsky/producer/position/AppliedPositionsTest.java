package io.vrsky.producer.position;

import io.vrsky.core.model.Change;
import io.vrsky.core.model.Envelope;
import org.junit.jupiter.api.Test;

import static io.vrsky.producer.Envelopes.insert;
import static io.vrsky.producer.Envelopes.lsn;
import static io.vrsky.producer.Envelopes.message;
import static io.vrsky.producer.Envelopes.plain;
import static io.vrsky.producer.Envelopes.row;
import static org.assertj.core.api.Assertions.assertThat;

class AppliedPositionsTest {

    private final AppliedPositions positions = new AppliedPositions();

    @Test
    void shouldSkipEachChangeAtOrBelowThePositionOfItsSource() {
        Change t1 = insert("orders", lsn(10), row("id", 1));
        Change t2 = insert("orders", lsn(20), row("id", 2));
        Change t3 = insert("orders", lsn(30), row("id", 3));
        positions.begin();
        positions.advancePast(message("src", t1, t2));
        positions.committed();

        // repacked after a restart: t2 again, with t3
        Envelope repacked = message("src", t2, t3);
        assertThat(positions.applied(repacked, t2)).isTrue();
        assertThat(positions.applied(repacked, t3)).isFalse();
        assertThat(positions.applied(message("other", t2), t2)).isFalse();
    }

    @Test
    void shouldSeeTheBatchsOwnProgressButForgetItOnRollback() {
        Change t1 = insert("orders", lsn(10), row("id", 1));
        positions.begin();
        positions.advancePast(message("src", t1));
        assertThat(positions.applied(message("src", t1), t1)).isTrue();
        assertThat(positions.committedApplied("src", lsn(10))).isFalse();

        positions.begin();

        assertThat(positions.applied(message("src", t1), t1)).isFalse();
    }

    @Test
    void shouldNeverMoveBackwards() {
        positions.begin();
        positions.advance("src", lsn(50), 0);
        positions.advance("src", lsn(40), 3);
        positions.committed();

        assertThat(positions.position("src")).isEqualTo(new AppliedPositions.Position(lsn(50), 0));
    }

    @Test
    void shouldNotTrackEnvelopesWithoutSourceOrCommitLsn() {
        Change untracked = insert("orders", null, row("id", 1));
        Envelope envelope = plain(untracked);
        positions.begin();
        positions.advancePast(envelope);
        positions.committed();

        assertThat(positions.applied(envelope, untracked)).isFalse();
    }
}
