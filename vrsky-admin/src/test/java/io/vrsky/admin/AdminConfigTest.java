package io.vrsky.admin;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Bad usage and configuration: exit 2, one line per problem naming the variable, never a password or a stack trace. */
class AdminConfigTest {

    @Test
    void shouldNameEveryMissingVariableOfAHalfConfiguredSinkAndExit2() {
        AdminRun r = AdminRun.run(Map.of("POSTGRES_OUTPUT_HOST", "db", "POSTGRES_OUTPUT_PASSWORD", "s3cret-never-shown"), "status");
        assertThat(r.exit()).as(r.toString()).isEqualTo(2);
        assertThat(r.err().lines()).containsExactly(
                "POSTGRES_OUTPUT_USER is required (the sink PostgreSQL user)",
                "POSTGRES_OUTPUT_DATABASE is required (the sink database name)");
        assertThat(r.out() + r.err()).doesNotContain("s3cret-never-shown").doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void shouldNameABadVariableWithItsValueAndWhatIsAllowed() {
        AdminRun r = AdminRun.run(Map.of("NATS_URL", "localhost:4222", "NATS_DURABLE", "no spaces"), "dlq", "list");
        assertThat(r.exit()).as(r.toString()).isEqualTo(2);
        assertThat(r.err()).contains("NATS_URL=localhost:4222 is not a NATS URL")
                .contains("NATS_DURABLE=no spaces is not a durable name");
    }

    @Test
    void shouldSayWhichVariablesACommandNeedsWhenItsSideIsNotConfigured() {
        AdminRun r = AdminRun.run(Map.of(), "backfill", "public.orders");
        assertThat(r.exit()).as(r.toString()).isEqualTo(2);
        assertThat(r.err().strip()).isEqualTo("this command needs the source database: POSTGRES_INPUT_HOST, POSTGRES_INPUT_USER"
                + " and POSTGRES_INPUT_DATABASE are not set");
    }

    @Test
    void shouldRefuseAnUnknownOptionOrABadSequenceWithExit2() {
        assertThat(AdminRun.run(Map.of(), "status", "--jsn").exit()).isEqualTo(2);
        AdminRun r = AdminRun.run(Map.of(), "dlq", "show", "abc");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("abc").contains("dlq show --help");
        assertThat(AdminRun.run(Map.of(), "dlq", "replay").exit()).isEqualTo(2);
        assertThat(AdminRun.run(Map.of(), "dlq", "purge", "--all", "3").exit()).isEqualTo(2);
        assertThat(AdminRun.run(Map.of(), "backfill").exit()).isEqualTo(2);
        assertThat(AdminRun.run(Map.of()).exit()).isEqualTo(2);
    }

    @Test
    void shouldPrintHelpWithoutAnyVariable() {
        AdminRun r = AdminRun.run(Map.of(), "--help");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("status").contains("dlq").contains("teardown").contains("backfill").contains("snapshot")
                .contains("Exit codes");
    }

    @Test
    void shouldSayNatsIsUnreachableInOneLineWithExit3AndNoCredentials() {
        AdminRun r = AdminRun.run(Map.of("NATS_URL", "nats://admin:pa55word@127.0.0.1:1"), "dlq", "list");
        assertThat(r.exit()).as(r.toString()).isEqualTo(3);
        assertThat(r.err().lines()).hasSize(1);
        assertThat(r.err()).startsWith("NATS at nats://***@127.0.0.1:1 unreachable").doesNotContain("pa55word");
    }

    @Test
    void shouldSayPostgresIsUnreachableInOneLineWithExit3() {
        AdminRun r = AdminRun.run(Map.of("POSTGRES_INPUT_HOST", "127.0.0.1", "POSTGRES_INPUT_PORT", "1", "POSTGRES_INPUT_USER", "u",
                "POSTGRES_INPUT_DATABASE", "d", "POSTGRES_INPUT_PASSWORD", "pgpass-never-shown",
                "POSTGRES_INPUT_SIGNAL_TABLE", "public.signals"), "snapshot");
        assertThat(r.exit()).as(r.toString()).isEqualTo(3);
        assertThat(r.err().lines()).hasSize(1);
        assertThat(r.err()).startsWith("PostgreSQL at 127.0.0.1:1/d unreachable: ").doesNotContain("pgpass-never-shown");
    }

    @Test
    void shouldDeriveTheConsumersDefaultSlotAndTheSubjectFromTheSourceDatabase() {
        AdminSettings s = AdminSettings.fromEnv(Map.of("POSTGRES_INPUT_HOST", "h", "POSTGRES_INPUT_USER", "u",
                "POSTGRES_INPUT_DATABASE", "Shop-DB"));
        assertThat(s.source().slot()).isEqualTo("vrsky_shop_db");
        assertThat(s.source().publication()).isEqualTo("vrsky_pub");
        assertThat(s.nats().subject()).isEqualTo("vrsky.cdc.Shop-DB");
        assertThat(s.source().envelopeSource()).contains("postgres-consumer/Shop-DB/vrsky_shop_db");
        assertThat(s.sink()).isNull();
        assertThat(s.defaultDlqFilter()).isEqualTo("vrsky.dlq.>");
        AdminSettings producerSide = AdminSettings.fromEnv(Map.of("NATS_DLQ_SUBJECT", "vrsky.dlq.postgres-producer"));
        assertThat(producerSide.nats().subject()).isEqualTo("vrsky.cdc.>");
        assertThat(producerSide.durable()).isEqualTo("postgres-producer");
        assertThat(producerSide.defaultDlqFilter()).isEqualTo("vrsky.dlq.postgres-producer");
    }
}
