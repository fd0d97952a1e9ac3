package io.vrsky.producer.schema;

import io.vrsky.core.model.ColumnInfo;
import io.vrsky.producer.catalog.ColumnMeta;
import io.vrsky.producer.catalog.TableMeta;
import io.vrsky.producer.plan.SchemaDifference.TypeDifference;
import io.vrsky.producer.sql.Identifiers;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Works out how a sink table must change to follow the source's description of it (a change's
 * column list), from the table as the catalog describes it and the producer's record of which sink
 * column each source attnum maps to. Pure: no SQL, no I/O.
 *
 * <ul>
 *   <li>A source attnum recorded under another name: the source renamed the column, so the sink
 *       column is renamed (unless the sink has the new name already).</li>
 *   <li>A name the sink lacks (and no rename explains): the column is added.</li>
 *   <li>A sink column of the same name: the types are compared ({@link TypeRules}); a widening is
 *       applied; a sink column wider than the source's is kept as it is unless the source's own
 *       type narrowed since the producer recorded it (then the line pauses, as for another kind of
 *       value).</li>
 *   <li>A recorded attnum the source no longer has: the source dropped the column; the sink keeps
 *       it, without NOT NULL when it had that and no default (later rows do not carry it).</li>
 *   <li>A sink column NOT NULL without a default that the source does not have and the record
 *       does not explain (dropped before the producer saw it, or a column of the sink only):
 *       source rows cannot fill it, so the line pauses naming it.</li>
 * </ul>
 * Attnums are used only when every column of the list has one (postgres-consumer's); otherwise
 * columns match by name.
 */
final class EvolutionPlanner {

    /** PostgreSQL's identifier limit (NAMEDATALEN - 1): longer names are cut, which would never match again. */
    static final int MAX_NAME_BYTES = 63;

    private EvolutionPlanner() {
    }

    /**
     * @param mapping source attnum → sink column name recorded for this source and table; null when
     *                not tracked (no source, or schema evolution off)
     */
    static EvolutionPlan plan(TableMeta sink, List<ColumnInfo> source, Map<Integer, String> mapping) {
        return plan(sink, source, mapping, Map.of());
    }

    /**
     * @param mapping     source attnum → sink column name recorded for this source and table; null when
     *                    not tracked (no source, or schema evolution off)
     * @param sourceTypes source attnum → the source type recorded with the mapping (absent when unknown)
     */
    static EvolutionPlan plan(TableMeta sink, List<ColumnInfo> source, Map<Integer, String> mapping,
                              Map<Integer, SourceType> sourceTypes) {
        List<ColumnChange> renames = new ArrayList<>();
        List<ColumnChange> others = new ArrayList<>();
        List<TypeDifference> refusedTypes = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        Map<Integer, String> puts = new LinkedHashMap<>();
        Set<Integer> drops = new LinkedHashSet<>();
        Map<Integer, SourceType> typePuts = new LinkedHashMap<>();

        boolean byAttnum = mapping != null && source.stream().allMatch(c -> c.attnum() != null);
        Map<Integer, String> known = byAttnum ? mapping : Map.of();
        Set<String> sourceNames = new HashSet<>();
        Set<Integer> sourceAttnums = new HashSet<>();
        for (ColumnInfo c : source) {
            sourceNames.add(c.name());
            if (c.attnum() != null) {
                sourceAttnums.add(c.attnum());
            }
        }
        Map<String, Integer> owners = new HashMap<>();
        known.forEach((attnum, name) -> owners.put(name, attnum));

        for (ColumnInfo s : source) {
            String nameProblem = nameProblem(s.name());
            if (nameProblem != null) {
                problems.add(nameProblem);
                continue;
            }
            Integer attnum = byAttnum ? s.attnum() : null;
            String mapped = attnum == null ? null : known.get(attnum);
            ColumnMeta target;
            if (mapped != null && !mapped.equals(s.name())) {
                ColumnMeta byNew = sink.column(s.name());
                ColumnMeta byOld = sink.column(mapped);
                if (byNew != null) {
                    String owned = ownedElsewhere(s, attnum, owners, sourceAttnums);
                    if (owned != null) {
                        problems.add(owned);
                        continue;
                    }
                    target = byNew; // renamed in the sink already
                } else if (byOld != null) {
                    if (sourceNames.contains(mapped)) {
                        problems.add("cannot follow the rename of column \"" + mapped + "\" to \"" + s.name() + "\" at the source: another"
                                + " source column is called \"" + mapped + "\" now (names swapped or renamed in a chain); rename the sink"
                                + " columns by hand to the source's names");
                        continue;
                    }
                    renames.add(new ColumnChange.Rename(mapped, s));
                    target = byOld;
                } else {
                    target = null;
                }
            } else {
                target = sink.column(s.name());
                if (target != null && attnum != null) {
                    String owned = ownedElsewhere(s, attnum, owners, sourceAttnums);
                    if (owned != null) {
                        problems.add(owned);
                        continue;
                    }
                }
            }
            if (attnum != null && !s.name().equals(mapped)) {
                puts.put(attnum, s.name());
            }
            SourceType now = byAttnum && s.type() != null && s.sqlType() != null
                    ? new SourceType(TypeRules.typname(s.type()), s.typmod() == null ? -1 : s.typmod()) : null;
            SourceType recorded = attnum == null ? null : sourceTypes.get(attnum);
            if (now != null && !now.equals(recorded)) {
                typePuts.put(attnum, now);
            }
            if (target == null) {
                if (s.type() == null && s.sqlType() == null) {
                    problems.add("has no column \"" + s.name() + "\", and the change does not say its type: add it by hand");
                } else {
                    others.add(new ColumnChange.Add(s));
                }
                continue;
            }
            if (s.type() == null || (s.sqlType() != null && s.sqlType().equals(target.sqlType()))) {
                continue; // the same type as format_type prints it on both sides
            }
            if (s.sqlType() == null && s.typmod() == null && TypeRules.typname(s.type()).equals(target.typeName())) {
                continue; // the change says nothing of length or precision: the same base type is no difference
            }
            TypeRules.Comparison cmp = TypeRules.compare(target.typeName(), target.typmod(), TypeRules.typname(s.type()),
                    s.typmod() == null ? -1 : s.typmod());
            switch (cmp.verdict()) {
                case SAME -> {
                }
                case WIDEN -> others.add(new ColumnChange.Widen(s.name(), target, s, false));
                case WIDEN_IF_EMPTY -> others.add(new ColumnChange.Widen(s.name(), target, s, true));
                case NARROWER -> {
                    if (now == null || !narrowedSince(recorded, now)) {
                        continue; // the sink column holds every value of the source's type: keep it as it is
                    }
                    refusedTypes.add(new TypeDifference(s.name(), target.sqlType(), sourceType(s), "the source narrowed it from "
                            + recorded.typeName() + (recorded.typmod() < 0 ? "" : " (type modifier " + recorded.typmod() + ")")
                            + "; to resume, give the sink column the source's type by hand (ALTER TABLE " + Identifiers.qualified(sink.id())
                            + " ALTER COLUMN " + Identifiers.quote(s.name()) + " TYPE " + sourceType(s) + ")"));
                }
                case INCOMPATIBLE -> refusedTypes.add(new TypeDifference(s.name(), target.sqlType(), sourceType(s),
                        cmp.reason() + "; to resume, give the sink column the source's type by hand (ALTER TABLE "
                                + Identifiers.qualified(sink.id()) + " ALTER COLUMN " + Identifiers.quote(s.name()) + " TYPE "
                                + sourceType(s) + ")"));
            }
        }
        if (byAttnum) {
            for (Map.Entry<Integer, String> e : new TreeMap<>(known).entrySet()) {
                if (sourceAttnums.contains(e.getKey())) {
                    continue;
                }
                drops.add(e.getKey());
                String name = e.getValue();
                ColumnMeta c = sink.column(name);
                if (c != null && !sourceNames.contains(name) && c.notNull() && !c.hasDefault() && !c.generated() && !c.identity()
                        && !sink.primaryKey().contains(name)) {
                    others.add(new ColumnChange.DropNotNull(name));
                }
            }
        }
        if (byAttnum) {
            problems.addAll(unfillable(sink, sourceNames, renames, others));
        }
        List<ColumnChange> changes = new ArrayList<>(renames);
        changes.addAll(others);
        return new EvolutionPlan(sink.id(), changes, refusedTypes, problems, puts, drops, typePuts);
    }

    /**
     * Whether the source's type narrowed since it was recorded: with no record the sink column was
     * wider from the start (a choice made in the sink, not a change at the source).
     */
    private static boolean narrowedSince(SourceType recorded, SourceType now) {
        if (recorded == null) {
            return false;
        }
        TypeRules.Verdict since = TypeRules.compare(recorded.typeName(), recorded.typmod(), now.typeName(), now.typmod()).verdict();
        return since == TypeRules.Verdict.NARROWER || since == TypeRules.Verdict.INCOMPATIBLE;
    }

    /**
     * Sink columns a source row cannot fill: NOT NULL, no default, not generated, not in the key,
     * not in the source's (complete) column list, and not made nullable or renamed by this plan.
     */
    private static List<String> unfillable(TableMeta sink, Set<String> sourceNames, List<ColumnChange> renames,
                                           List<ColumnChange> others) {
        Set<String> handled = new HashSet<>();
        for (ColumnChange c : renames) {
            handled.add(c.column());
            if (c instanceof ColumnChange.Rename r) {
                handled.add(r.from());
            }
        }
        for (ColumnChange c : others) {
            handled.add(c.column());
        }
        List<String> problems = new ArrayList<>();
        for (ColumnMeta c : sink.columns()) {
            if (c.notNull() && !c.hasDefault() && !c.generated() && !c.identity() && !sourceNames.contains(c.name())
                    && !handled.contains(c.name()) && !sink.primaryKey().contains(c.name())) {
                problems.add("has column \"" + c.name() + "\" NOT NULL without a default, and the source has no such column (dropped"
                        + " before the producer saw it, or a column of the sink only): rows from the source cannot fill it; to resume,"
                        + " ALTER TABLE " + Identifiers.qualified(sink.id()) + " ALTER COLUMN " + Identifiers.quote(c.name())
                        + " DROP NOT NULL (or give it a default)");
            }
        }
        return problems;
    }

    /**
     * A sink column of this name that the record says belongs to another source attnum: a chain of
     * renames, or a column dropped and added again under the same name (the sink column holds the
     * dropped one's values).
     */
    private static String ownedElsewhere(ColumnInfo s, Integer attnum, Map<String, Integer> owners, Set<Integer> sourceAttnums) {
        Integer owner = owners.get(s.name());
        if (owner == null || owner.equals(attnum)) {
            return null;
        }
        if (sourceAttnums.contains(owner)) {
            return "cannot follow the renames of column \"" + s.name() + "\" at the source: names swapped or renamed in a chain;"
                    + " rename the sink columns by hand to the source's names";
        }
        return "has column \"" + s.name() + "\" from a source column that was dropped, and the source has a new column of that name:"
                + " the sink column holds the dropped column's values. Rename or drop the sink column by hand (the producer then"
                + " adds the new one), or keep it by deleting its row from vrsky_source_columns (attnum " + owner + ")";
    }

    /** The source's type as the full text when known ({@code character varying(10)}), else its name. */
    static String sourceType(ColumnInfo s) {
        if (s.sqlType() != null) {
            return s.sqlType();
        }
        return s.typmod() == null ? s.type() : s.type() + " (type modifier " + s.typmod() + ")";
    }

    private static String nameProblem(String name) {
        if (name.isEmpty() || name.indexOf('\0') >= 0) {
            return "cannot take a column with an empty name or a NUL character from the source";
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
            return "cannot take column \"" + name + "\": its name is longer than PostgreSQL's " + MAX_NAME_BYTES + " bytes";
        }
        return null;
    }
}
