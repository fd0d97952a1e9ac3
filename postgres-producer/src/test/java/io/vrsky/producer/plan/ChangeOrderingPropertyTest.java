package io.vrsky.producer.plan;

import io.vrsky.producer.plan.OrderingModel.Del;
import io.vrsky.producer.plan.OrderingModel.Ins;
import io.vrsky.producer.plan.OrderingModel.Op;
import io.vrsky.producer.plan.OrderingModel.Outcome;
import io.vrsky.producer.plan.OrderingModel.Upd;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Set-based application (the planner's runs, executed with one-statement semantics) equals
 * applying every change one by one, for any interleaving of inserts, updates (also of the key,
 * also with unchanged TOAST) and deletes on the same few keys, under every conflict strategy.
 * The same property runs against a real PostgreSQL in {@code ChangeOrderingIT}.
 */
public class ChangeOrderingPropertyTest {

    @Property(tries = 1000)
    void plannedStatementsEqualOneByOneApplication(@ForAll("changes") List<Op> ops, @ForAll("initialKeys") Set<Integer> initial,
                                                   @ForAll ConflictStrategy strategy) throws Exception {
        ChangeValidator validator = Tables.validator(strategy);
        List<RowChange> rows = new ArrayList<>();
        for (Op op : ops) {
            rows.add(validator.prepare(null, op.toChange(), new HashSet<>()));
        }
        Map<String, Map<String, String>> start = OrderingModel.initial(initial);

        Outcome expected = OrderingModel.sequential(start, ops, strategy);
        Outcome actual = OrderingModel.planned(start, ChangePlanner.plan(rows));

        assertThat(actual).isEqualTo(expected);
    }

    @Provide
    public static Arbitrary<Set<Integer>> initialKeys() {
        return Arbitraries.integers().between(1, 4).set();
    }

    @Provide
    public static Arbitrary<List<Op>> changes() {
        Arbitrary<Integer> key = Arbitraries.integers().between(1, 4);
        Arbitrary<String> note = Arbitraries.of("a", "b").injectNull(0.2);
        Arbitrary<Integer> qty = Arbitraries.integers().between(1, 3).injectNull(0.2);
        Arbitrary<Op> insert = Combinators.combine(key, note, qty).as(Ins::new);
        Arbitrary<String> updatedNote = Arbitraries.of("a", "b", OrderingModel.TOAST).injectNull(0.15);
        Arbitrary<Op> update = Combinators.combine(key, key, updatedNote, qty, Arbitraries.of(true, false)).as(Upd::new);
        Arbitrary<Op> delete = key.map(Del::new);
        return Arbitraries.frequencyOf(Tuple.of(3, insert), Tuple.of(5, update), Tuple.of(2, delete)).list().ofMaxSize(24);
    }
}
