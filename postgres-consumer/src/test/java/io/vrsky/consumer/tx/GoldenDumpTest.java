package io.vrsky.consumer.tx;

import io.vrsky.consumer.filter.OperationFilter;
import io.vrsky.consumer.filter.TableFilter;
import io.vrsky.consumer.pgoutput.Fixtures;
import io.vrsky.consumer.pgoutput.PgOutputDecoder;
import io.vrsky.consumer.pgoutput.RelationCache;
import io.vrsky.consumer.pgoutput.TestCatalog;
import io.vrsky.consumer.pgoutput.TypeRegistry;
import io.vrsky.consumer.pgoutput.ValueDecoder;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

class GoldenDumpTest {
    @Test
    void dump() throws Exception {
        for (String f : new String[] {"crud", "replica_full", "toast", "truncate", "types", "message_origin"}) {
            for (Set<String> pk : java.util.List.of(Set.<String>of(), Set.of("id"))) {
                Recording.Transactions sink = new Recording.Transactions();
                Recording.DeadLetters dlq = new Recording.DeadLetters();
                TransactionAssembler a = new TransactionAssembler(new PgOutputDecoder(), new RelationCache(new TypeRegistry(new TestCatalog()), id -> pk),
                        TableFilter.all(), OperationFilter.all(), new ChangeEncoder(new ValueDecoder()), sink, dlq);
                for (Fixtures.Captured c : Fixtures.load(f)) {
                    a.accept(c.buffer(), c.lsn());
                }
                StringBuilder sb = new StringBuilder();
                sb.append(sink.events).append('\n').append(sink.commits).append('\n').append(dlq.errors).append('\n');
                for (EncodedChange ch : sink.changes) {
                    sb.append(new String(ch.json(), StandardCharsets.UTF_8)).append('\n');
                }
                Files.writeString(Path.of(System.getProperty("golden.dir", "/tmp/cperf/golden"), f + "-" + pk.size() + ".txt"), sb.toString());
            }
        }
    }
}
