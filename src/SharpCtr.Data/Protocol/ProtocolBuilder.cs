using SharpCtr.Data.Encoded;
using SharpCtr.Data.Raw;
using SharpCtr.Data.Schema;

namespace SharpCtr.Data.Protocol;

/// <summary>
/// Turns raw interactions into encoded samples, in this order:
/// label rule (drop band) → k-core filter → each user's chronological order → split →
/// behaviour sequences (strictly earlier events) → sampled negatives → vocabularies → columns.
/// Samples are stored user by user in chronological order; a sampled negative follows its positive.
/// </summary>
public static class ProtocolBuilder
{
    public static EncodedDataset Build(RawData raw, DataConfig cfg)
    {
        int n = raw.RowCount;
        if (n == 0) throw new InvalidOperationException($"data set '{cfg.Name}': no interactions were read");

        // 1. labels; NaN marks a dropped row
        var label = new float[n];
        for (int r = 0; r < n; r++)
        {
            float rating = raw.RowRating[r];
            label[r] = cfg.LabelKind switch
            {
                "rating" => rating > cfg.PositiveAbove ? 1f : rating < cfg.NegativeBelow ? 0f : float.NaN,
                "implicit" => 1f,
                _ => rating > 0.5f ? 1f : 0f,
            };
        }

        // 2. k-core: repeat until users and items both meet their minimum
        FilterCore(raw, label, cfg.MinUserInteractions, cfg.MinItemInteractions);

        // 3. group kept rows by user, each user chronological by (sort key, file order)
        int rawUsers = raw.Users.Count;
        var userCount = new int[rawUsers + 1];
        for (int r = 0; r < n; r++) if (!float.IsNaN(label[r])) userCount[raw.RowUser[r] + 1]++;
        for (int u = 0; u < rawUsers; u++) userCount[u + 1] += userCount[u];
        var rowStart = (int[])userCount.Clone();
        var order = new int[rowStart[rawUsers]];
        var fill = (int[])rowStart.Clone();
        for (int r = 0; r < n; r++) if (!float.IsNaN(label[r])) order[fill[raw.RowUser[r]]++] = r;
        var sortKeys = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(raw.RowSortKey).ToArray();
        var byTimeThenFileOrder = Comparer<int>.Create((x, y) => { int c = sortKeys[x].CompareTo(sortKeys[y]); return c != 0 ? c : x.CompareTo(y); });
        for (int u = 0; u < rawUsers; u++)
        {
            int a = rowStart[u], b = rowStart[u + 1];
            bool sorted = true; // files such as ratings-chrono.csv are already in order
            for (int k = a + 1; k < b && sorted; k++) sorted = sortKeys[order[k - 1]] <= sortKeys[order[k]];
            if (!sorted) Array.Sort(order, a, b - a, byTimeThenFileOrder);
        }

        // dense user index over users that kept something
        var userIndex = new int[rawUsers];
        int users = 0;
        for (int u = 0; u < rawUsers; u++) userIndex[u] = rowStart[u + 1] > rowStart[u] ? users++ : -1;

        // 4. events (rows at the same moment: one search request) and the split of each row
        int kept = order.Length;
        var eventPos = new int[kept];     // per position in `order`
        var split = new byte[kept];
        var userEvents = new int[rawUsers];
        for (int u = 0; u < rawUsers; u++)
        {
            int a = rowStart[u], b = rowStart[u + 1], e = -1, prev = int.MinValue;
            for (int k = a; k < b; k++)
            {
                int ev = raw.RowEvent[order[k]];
                if (ev < 0 || ev != prev) e++;
                prev = ev;
                eventPos[k] = e;
            }
            userEvents[u] = e + 1;
        }
        AssignSplits(raw, cfg, order, rowStart, eventPos, userEvents, split);

        // 5. sequences: eligible items per user in order; each row sees those of strictly earlier events
        bool seqOn = cfg.SequenceName != null;
        var seqRows = new List<int>();          // raw rows whose items enter histories, user by user
        var seqUserStart = new int[users + 1];
        var seqEnd = new int[kept];             // absolute end (exclusive) in seqRows for each position
        if (seqOn)
        {
            for (int u = 0; u < rawUsers; u++)
            {
                if (userIndex[u] < 0) continue;
                int a = rowStart[u], b = rowStart[u + 1];
                seqUserStart[userIndex[u]] = seqRows.Count;
                int k = a;
                while (k < b)
                {
                    int end = k;
                    while (end < b && eventPos[end] == eventPos[k]) end++;
                    for (int j = k; j < end; j++) seqEnd[j] = seqRows.Count;
                    for (int j = k; j < end; j++)
                        if (cfg.SequenceFrom == "all" || label[order[j]] == 1f) seqRows.Add(order[j]);
                    k = end;
                }
            }
            seqUserStart[users] = seqRows.Count;
        }

        // 6. samples (+ sampled negatives)
        var itemSeen = new bool[raw.Items.Count];
        int positives = 0;
        foreach (var r in order) { itemSeen[raw.RowItem[r]] = true; if (label[r] == 1f) positives++; }
        var itemPool = new List<int>();
        for (int i = 0; i < itemSeen.Length; i++) if (itemSeen[i]) itemPool.Add(i);
        int negPer = cfg.NegativesPerPositive;
        int count = kept + negPer * positives;
        var sRow = new int[count];
        var sItem = new int[count];
        var sLabel = new float[count];
        var sSplit = new byte[count];
        var sPos = new int[count];   // position in `order`, for sequence windows
        var rng = new Random(cfg.NegativeSeed);
        var interacted = new HashSet<int>();
        int s = 0;
        for (int u = 0; u < rawUsers; u++)
        {
            int a = rowStart[u], b = rowStart[u + 1];
            if (negPer > 0) { interacted.Clear(); for (int k = a; k < b; k++) interacted.Add(raw.RowItem[order[k]]); }
            for (int k = a; k < b; k++)
            {
                int r = order[k];
                sRow[s] = r; sItem[s] = raw.RowItem[r]; sLabel[s] = label[r]; sSplit[s] = split[k]; sPos[s] = k; s++;
                if (label[r] != 1f) continue;
                for (int m = 0; m < negPer; m++)
                {
                    if (interacted.Count >= itemPool.Count) throw new InvalidOperationException($"user '{raw.Users.Keys[u]}' interacted with every item: no negative to sample");
                    int item;
                    do item = itemPool[rng.Next(itemPool.Count)]; while (interacted.Contains(item));
                    sRow[s] = r; sItem[s] = item; sLabel[s] = 0f; sSplit[s] = split[k]; sPos[s] = k; s++;
                }
            }
        }

        // 7. vocabularies (counted over kept interactions) and columns
        var sources = new SourceValues(raw);
        var userRows = new int[raw.Users.Count];
        var itemRows = new int[raw.Items.Count];
        foreach (var r in order) { userRows[raw.RowUser[r]]++; itemRows[raw.RowItem[r]]++; }
        var vocabs = new Dictionary<string, Vocabulary>(StringComparer.Ordinal);
        Vocabulary VocabFor(string source, int minCount, int hashBuckets)
        {
            if (vocabs.TryGetValue(source, out var v)) return v;
            var counts = new Dictionary<string, int>(StringComparer.Ordinal);
            var perEntity = sources.IsEntityLevel(source) ? (SourceValues.IsUserLevel(source) ? userRows : itemRows) : null;
            if (perEntity != null)
            {
                // count each user/item once, weighted by its number of interactions
                for (int e = 0; e < perEntity.Length; e++)
                {
                    if (perEntity[e] == 0) continue;
                    var vals = sources.GetEntity(source, e);
                    if (vals == null) continue;
                    foreach (var x in vals) counts[x] = counts.GetValueOrDefault(x) + perEntity[e];
                }
            }
            else
                foreach (var r in order)
                {
                    var vals = sources.Get(source, r, raw.RowItem[r]);
                    if (vals == null) continue;
                    foreach (var x in vals) counts[x] = counts.GetValueOrDefault(x) + 1;
                }
            return vocabs[source] = Vocabulary.Build(source, counts, minCount, hashBuckets);
        }

        var sRawUser = new int[count];
        for (int i = 0; i < count; i++) sRawUser[i] = raw.RowUser[sRow[i]];
        var fields = new List<EncodedField>();
        foreach (var f in cfg.Fields)
        {
            var entity = SourceValues.IsUserLevel(f.Source) ? sRawUser : sItem; // which entity a cached id belongs to
            if (f.Kind == "dense")
            {
                fields.Add(DenseItemField(raw, f, itemSeen, sItem));
                continue;
            }
            var vocab = VocabFor(f.Source, f.MinCount, f.HashBuckets);
            if (f.Kind == "categorical")
            {
                var ids = new int[count];
                var cache = sources.EntityIdCache(f.Source, vocab, multi: false);
                for (int i = 0; i < count; i++) ids[i] = cache != null ? cache[entity[i]][0] : First(vocab, sources.Get(f.Source, sRow[i], sItem[i]));
                fields.Add(new EncodedField { Name = f.Name, Kind = f.Kind, Source = f.Source, VocabSize = vocab.Size, Width = 1, Ids = ids });
            }
            else
            {
                var offsets = new int[count + 1];
                var values = new List<int>(count * 2);
                var cache = sources.EntityIdCache(f.Source, vocab, multi: true);
                int longest = 0;
                for (int i = 0; i < count; i++)
                {
                    int[] ids = cache != null ? cache[entity[i]] : Encode(vocab, sources.Get(f.Source, sRow[i], sItem[i]));
                    int take = f.MaxLen > 0 ? Math.Min(f.MaxLen, ids.Length) : ids.Length;
                    for (int j = 0; j < take; j++) values.Add(ids[j]);
                    longest = Math.Max(longest, take);
                    offsets[i + 1] = values.Count;
                }
                fields.Add(new EncodedField { Name = f.Name, Kind = f.Kind, Source = f.Source, VocabSize = vocab.Size, Width = f.MaxLen > 0 ? f.MaxLen : Math.Max(1, longest), Ids = values.ToArray(), Offsets = offsets });
            }
        }

        EncodedSequence? sequence = null;
        if (seqOn)
        {
            var itemVocab = VocabFor(cfg.SequenceSource, cfg.MinCount, cfg.HashBuckets);
            var items = new int[seqRows.Count];
            var itemCache = sources.EntityIdCache(cfg.SequenceSource, itemVocab, multi: false);
            for (int j = 0; j < items.Length; j++)
                items[j] = itemCache != null ? itemCache[sources.EntityOf(cfg.SequenceSource, seqRows[j], raw.RowItem[seqRows[j]])][0] : First(itemVocab, sources.Get(cfg.SequenceSource, seqRows[j], raw.RowItem[seqRows[j]]));
            var sides = new List<EncodedSequenceSide>();
            foreach (var side in cfg.SequenceSides)
            {
                var v = VocabFor(side.Source, side.MinCount, side.HashBuckets);
                bool multi = side.Kind == "multi";
                var cache = sources.EntityIdCache(side.Source, v, multi);
                int width = 1;
                if (multi)
                {
                    if (side.MaxLen > 0) width = side.MaxLen;
                    else { width = 1; foreach (var r in seqRows) width = Math.Max(width, (cache != null ? cache[sources.EntityOf(side.Source, r, raw.RowItem[r])] : Encode(v, sources.Get(side.Source, r, raw.RowItem[r]))).Length); }
                }
                var ids = new int[seqRows.Count * width];
                for (int j = 0; j < seqRows.Count; j++)
                {
                    int r = seqRows[j];
                    if (!multi) { ids[j] = cache != null ? cache[sources.EntityOf(side.Source, r, raw.RowItem[r])][0] : First(v, sources.Get(side.Source, r, raw.RowItem[r])); continue; }
                    var all = cache != null ? cache[sources.EntityOf(side.Source, r, raw.RowItem[r])] : Encode(v, sources.Get(side.Source, r, raw.RowItem[r]));
                    all.AsSpan(0, Math.Min(width, all.Length)).CopyTo(ids.AsSpan(j * width, width));
                }
                sides.Add(new EncodedSequenceSide { Name = side.Name, Source = side.Source, VocabSize = v.Size, Width = width, Ids = ids });
            }
            var start = new int[count];
            var length = new int[count];
            for (int i = 0; i < count; i++)
            {
                int end = seqEnd[sPos[i]];
                int first = seqUserStart[userIndex[raw.RowUser[sRow[i]]]];
                int len = Math.Min(cfg.SequenceMaxLen, end - first);
                start[i] = end - len;
                length[i] = len;
            }
            sequence = new EncodedSequence
            {
                Name = cfg.SequenceName!, Source = cfg.SequenceSource, MaxLen = cfg.SequenceMaxLen, VocabSize = itemVocab.Size,
                UserStart = seqUserStart, Items = items, Sides = sides, SampleStart = start, SampleLength = length,
            };
        }

        // 8. user and group indices
        var sUser = new int[count];
        var sGroup = new int[count];
        var groups = new Dictionary<int, int>();
        var requestIds = new List<int>();
        for (int i = 0; i < count; i++)
        {
            int r = sRow[i];
            sUser[i] = userIndex[raw.RowUser[r]];
            int ev = raw.RowEvent[r];
            if (ev < 0) sGroup[i] = sUser[i];
            else
            {
                if (!groups.TryGetValue(ev, out var g)) { groups[ev] = g = groups.Count; requestIds.Add(ev); }
                sGroup[i] = g;
            }
        }

        return new EncodedDataset
        {
            Name = cfg.Name, Count = count, Labels = sLabel, User = sUser, Group = sGroup, Split = sSplit,
            GroupRequestIds = requestIds.ToArray(),
            Fields = fields, Sequence = sequence, Vocabularies = vocabs.Values.ToList(),
            UserCount = users, ItemCount = itemPool.Count, Interactions = kept, Positives = positives,
            Skipped = new Dictionary<string, int>(raw.Skipped),
        };
    }

    /// <summary>
    /// A dense item field keeps one vector per kept item (row 0: zeros, for items without one)
    /// and, per sample, the row of its item: vectors are not copied into every sample.
    /// </summary>
    static EncodedField DenseItemField(RawData raw, FieldSpec f, bool[] itemSeen, int[] sItem)
    {
        var name = f.Source.StartsWith("item.", StringComparison.Ordinal) ? f.Source[5..] : "";
        if (!raw.ItemVectors.TryGetValue(name, out var vectors))
            throw new InvalidOperationException($"field '{f.Name}': dense fields need source item.<name> with source.item_vectors naming '{name}'");
        var byKey = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < vectors.Keys.Count; i++) byKey[vectors.Keys[i]] = i;
        int dim = vectors.Dim;
        var rowOfItem = new int[itemSeen.Length];
        var table = new List<float>(dim * 16);
        table.AddRange(new float[dim]);
        int rows = 1;
        for (int item = 0; item < itemSeen.Length; item++)
        {
            if (!itemSeen[item] || !byKey.TryGetValue(raw.Items.Keys[item], out var v)) continue;
            rowOfItem[item] = rows++;
            foreach (var x in vectors.Of(v)) table.Add(x);
        }
        var ids = new int[sItem.Length];
        for (int i = 0; i < ids.Length; i++) ids[i] = rowOfItem[sItem[i]];
        return new EncodedField { Name = f.Name, Kind = "dense", Source = f.Source, VocabSize = rows, Width = dim, Ids = ids, Dense = table.ToArray() };
    }

    static int First(Vocabulary v, string[]? values) => values == null || values.Length == 0 ? Vocabulary.OutOfVocabulary : v.Id(values[0]);

    static int[] Encode(Vocabulary v, string[]? values)
    {
        if (values == null) return Array.Empty<int>();
        var ids = new int[values.Length];
        for (int i = 0; i < ids.Length; i++) ids[i] = v.Id(values[i]);
        return ids;
    }

    static void FilterCore(RawData raw, float[] label, int minUser, int minItem)
    {
        if (minUser <= 1 && minItem <= 1) return;
        int n = raw.RowCount;
        for (int round = 0; round < 100; round++)
        {
            var uc = new int[raw.Users.Count];
            var ic = new int[raw.Items.Count];
            for (int r = 0; r < n; r++) if (!float.IsNaN(label[r])) { uc[raw.RowUser[r]]++; ic[raw.RowItem[r]]++; }
            bool changed = false;
            for (int r = 0; r < n; r++)
                if (!float.IsNaN(label[r]) && (uc[raw.RowUser[r]] < minUser || ic[raw.RowItem[r]] < minItem)) { label[r] = float.NaN; changed = true; }
            if (!changed || minItem <= 1) return; // a user-only filter is stable after one pass
        }
    }

    static void AssignSplits(RawData raw, DataConfig cfg, int[] order, int[] rowStart, int[] eventPos, int[] userEvents, byte[] split)
    {
        int rawUsers = raw.Users.Count;
        switch (cfg.SplitKind)
        {
            case "ratio_per_user":
                for (int u = 0; u < rawUsers; u++)
                {
                    for (int k = rowStart[u]; k < rowStart[u + 1]; k++)
                        split[k] = Splits.RatioPerUser(eventPos[k], userEvents[u], cfg.SplitRatios);
                }
                break;
            case "leave_one_out":
                for (int u = 0; u < rawUsers; u++)
                {
                    int e = userEvents[u];
                    for (int k = rowStart[u]; k < rowStart[u + 1]; k++)
                        split[k] = e >= 3 && eventPos[k] == e - 1 ? Splits.Test : e >= 3 && eventPos[k] == e - 2 ? Splits.Valid : Splits.Train;
                }
                break;
            case "global_time":
            {
                // order all kept rows by time (events share a time); cut at the ratio quantiles
                var all = (int[])order.Clone();
                var pos = new int[raw.RowCount];
                for (int k = 0; k < order.Length; k++) pos[order[k]] = k;
                Array.Sort(all, (x, y) => { int c = raw.RowTimestamp[x].CompareTo(raw.RowTimestamp[y]); return c != 0 ? c : x.CompareTo(y); });
                int trainEnd = (int)Math.Floor(cfg.SplitRatios[0] * all.Length + 1e-9);
                int validEnd = (int)Math.Floor((cfg.SplitRatios[0] + cfg.SplitRatios[1]) * all.Length + 1e-9);
                for (int k = 0; k < all.Length; k++) split[pos[all[k]]] = k < trainEnd ? Splits.Train : k < validEnd ? Splits.Valid : Splits.Test;
                // keep a request's rows together: each takes the split of its first row
                for (int k = 1; k < order.Length; k++)
                {
                    int ev = raw.RowEvent[order[k]];
                    if (ev >= 0 && ev == raw.RowEvent[order[k - 1]]) split[k] = split[k - 1];
                }
                break;
            }
            case "random":
            {
                var rng = new Random(cfg.SplitSeed);
                double a = cfg.SplitRatios[0], b = a + cfg.SplitRatios[1];
                for (int k = 0; k < order.Length; k++)
                {
                    if (k > 0 && raw.RowEvent[order[k]] >= 0 && raw.RowEvent[order[k]] == raw.RowEvent[order[k - 1]]) { split[k] = split[k - 1]; continue; }
                    double x = rng.NextDouble();
                    split[k] = x < a ? Splits.Train : x < b ? Splits.Valid : Splits.Test;
                }
                break;
            }
        }
    }
}
