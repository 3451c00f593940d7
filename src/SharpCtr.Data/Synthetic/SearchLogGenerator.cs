using System.Text;

namespace SharpCtr.Data.Synthetic;

/// <summary>
/// Generates a search log whose true intents are known. The process, per user (details and knobs
/// in docs/synthetic-search.md):
///   long-term interest leaves with Dirichlet weights → per session, maybe a shift of the dominant
///   interest → per query, the intent distribution = interest weights × context/scene pull, the
///   true intent drawn from it, a query spelled from its words → per page, shown items mixing the
///   intent leaf, its siblings and popular items, ordered by a noisy relevance → clicks =
///   examination(position, page) × attraction(match with the true intent, preference, quality)
///   → noise clicks (accidental, cross-category), recorded as clicks and flagged only in truth.
/// Each user draws from its own random stream, so the log is a pure function of options + seed.
/// </summary>
public static class SearchLogGenerator
{
    // Random sub-streams: the catalogue, item attributes, and one per user.
    const ulong CatalogStream = 1, ItemStream = 2, UserStream = 3;

    // Share of traffic per hour of day (UTC), low at night: sessions start at these hours.
    static readonly double[] HourProfile =
    [
        0.8, 0.5, 0.3, 0.3, 0.3, 0.5, 1.0, 1.8, 2.5, 2.8, 3.0, 3.1,
        3.4, 3.2, 3.0, 3.0, 3.1, 3.4, 3.8, 4.2, 4.4, 4.0, 2.8, 1.6,
    ];

    public static SyntheticSearchLog Generate(SyntheticSearchOptions options)
    {
        options.Validate();
        var catalog = new SyntheticCatalog(options, SynthRandom.Derive(options.Seed, CatalogStream, 0));
        var items = MakeItems(options, catalog, SynthRandom.Derive(options.Seed, ItemStream, 0));
        var exposure = new Exposure(options, items);

        var all = new List<SyntheticRequest>(options.Users * (options.MinSessions + options.MaxSessions) * 2);
        for (var u = 0; u < options.Users; u++)
        {
            var user = new UserSimulation(options, catalog, items, exposure, u,
                SynthRandom.Derive(options.Seed, UserStream, (ulong)u));
            user.Run(all);
        }

        var requests = all.ToArray();
        Array.Sort(requests, static (a, b) =>
        {
            var c = a.Timestamp.CompareTo(b.Timestamp);
            if (c != 0) return c;
            c = a.User.CompareTo(b.User);
            return c != 0 ? c : a.UserSequence.CompareTo(b.UserSequence);
        });
        for (var i = 0; i < requests.Length; i++) requests[i].RequestId = i;

        return new SyntheticSearchLog
        {
            Options = options, Catalog = catalog, Items = items, Users = options.Users, Requests = requests,
        };
    }

    static SyntheticItem[] MakeItems(SyntheticSearchOptions o, SyntheticCatalog catalog, SynthRandom random)
    {
        var items = new SyntheticItem[o.Items];
        var sb = new StringBuilder();
        for (var i = 0; i < items.Length; i++)
        {
            var leaf = i / o.ItemsPerLeaf;
            var leafWords = catalog.LeafWords[leaf];
            var topWords = catalog.TopWords[catalog.TopOf(leaf)];
            sb.Clear();
            // Titles: a generic word or none, one or two leaf words, one top word.
            if (random.Bernoulli(0.5)) sb.Append(catalog.GenericWords[random.Next(catalog.GenericWords.Length)]).Append(' ');
            sb.Append(leafWords[random.Next(leafWords.Length)]).Append(' ');
            if (random.Bernoulli(0.5)) sb.Append(leafWords[random.Next(leafWords.Length)]).Append(' ');
            sb.Append(topWords[random.Next(topWords.Length)]);
            items[i] = new SyntheticItem(i, leaf, sb.ToString(), o.ItemQualitySpread * random.Gaussian());
        }
        return items;
    }

    /// <summary>Popularity tables: within a leaf (Zipf over the item's rank) and over the catalogue.</summary>
    internal sealed class Exposure
    {
        public readonly double[] LeafCumulative;
        public readonly double[] GlobalCumulative;
        public readonly int ItemsPerLeaf;

        public Exposure(SyntheticSearchOptions o, SyntheticItem[] items)
        {
            ItemsPerLeaf = o.ItemsPerLeaf;
            LeafCumulative = new double[o.ItemsPerLeaf];
            var total = 0.0;
            for (var r = 0; r < o.ItemsPerLeaf; r++)
                LeafCumulative[r] = total += Math.Pow(r + 1, -o.PopularityExponent);
            // Every leaf has the same rank profile; the global table is that profile repeated.
            GlobalCumulative = new double[items.Length];
            total = 0.0;
            for (var i = 0; i < items.Length; i++)
                GlobalCumulative[i] = total += Math.Pow(i % o.ItemsPerLeaf + 1, -o.PopularityExponent);
        }

        public int FromLeaf(int leaf, SynthRandom random) => leaf * ItemsPerLeaf + random.FromCumulative(LeafCumulative);
        public int FromCatalog(SynthRandom random) => random.FromCumulative(GlobalCumulative);
    }

    /// <summary>One user's sessions; appends its requests to the shared list.</summary>
    sealed class UserSimulation
    {
        readonly SyntheticSearchOptions _o;
        readonly SyntheticCatalog _catalog;
        readonly SyntheticItem[] _items;
        readonly Exposure _exposure;
        readonly int _user;
        readonly SynthRandom _random;
        readonly int[] _interests;
        readonly double[] _weights;
        readonly int _primaryDevice;
        readonly StringBuilder _sb = new();
        int _sequence;

        public UserSimulation(SyntheticSearchOptions o, SyntheticCatalog catalog, SyntheticItem[] items,
            Exposure exposure, int user, SynthRandom random)
        {
            _o = o; _catalog = catalog; _items = items; _exposure = exposure; _user = user; _random = random;
            var k = random.Between(o.MinInterests, o.MaxInterests);
            _interests = new int[k];
            _weights = new double[k];
            Array.Fill(_interests, -1);
            var total = 0.0;
            for (var j = 0; j < k; j++)
            {
                _interests[j] = NewLeaf();
                total += _weights[j] = random.Gamma(o.InterestConcentration);
            }
            for (var j = 0; j < k; j++) _weights[j] /= total;
            _primaryDevice = random.Categorical(SyntheticCatalog.DeviceShare);
        }

        // A leaf the user is not yet interested in (slots not yet filled hold -1).
        int NewLeaf()
        {
            while (true)
            {
                var leaf = _random.Next(_catalog.Leaves);
                if (Array.IndexOf(_interests, leaf) < 0) return leaf;
            }
        }

        int Dominant()
        {
            var best = 0;
            for (var j = 1; j < _weights.Length; j++) if (_weights[j] > _weights[best]) best = j;
            return best;
        }

        public void Run(List<SyntheticRequest> output)
        {
            var sessions = _random.Between(_o.MinSessions, _o.MaxSessions);
            var starts = new long[sessions];
            for (var s = 0; s < sessions; s++)
            {
                var day = _random.Next(_o.Days);
                var hour = _random.Categorical(HourProfile);
                starts[s] = _o.StartTimestamp + day * 86_400L + hour * 3_600L + _random.Next(3_600);
            }
            Array.Sort(starts);

            for (var s = 0; s < sessions; s++)
            {
                var shifted = s > 0 && _random.Bernoulli(_o.ShiftProbability);
                if (shifted) Shift();
                var device = _random.Bernoulli(_o.PrimaryDeviceProbability)
                    ? _primaryDevice
                    : _random.Categorical(SyntheticCatalog.DeviceShare);
                var time = starts[s];
                var queries = _random.Between(_o.MinQueriesPerSession, _o.MaxQueriesPerSession);
                for (var q = 0; q < queries; q++)
                {
                    if (q > 0) time += 30 + _random.Next(570);
                    var source = _random.Categorical(SyntheticCatalog.SourceShare);
                    var hour = (int)(time % 86_400 / 3_600);
                    var weekend = Weekday(time) >= 5;
                    var intentWeights = IntentWeights(hour, weekend, device, source);
                    var intent = _interests[_random.Categorical(intentWeights)];
                    var ambiguous = _random.Bernoulli(_o.AmbiguousQueryProbability);
                    var query = Query(intent, ambiguous);
                    for (var page = 1; page <= _o.MaxPages; page++)
                    {
                        if (page > 1)
                        {
                            if (!_random.Bernoulli(_o.NextPageProbability)) break;
                            time += 10 + _random.Next(110);
                        }
                        output.Add(Request(time, page, device, source, query, ambiguous, intent, intentWeights, shifted));
                    }
                }
            }
        }

        // The dominant interest moves to another slot; that slot may first be replaced by a leaf
        // the user never had (drift), so earlier history says nothing about it.
        void Shift()
        {
            var dominant = Dominant();
            var k = _interests.Length;
            int target;
            if (k == 1 || _random.Bernoulli(_o.NewInterestProbability))
            {
                target = k == 1 ? 0 : (dominant + 1 + _random.Next(k - 1)) % k;
                _interests[target] = NewLeaf();
            }
            else
            {
                target = (dominant + 1 + _random.Next(k - 1)) % k;
            }
            (_weights[dominant], _weights[target]) = (_weights[target], _weights[dominant]);
        }

        double[] IntentWeights(int hour, bool weekend, int device, int source)
        {
            var w = new double[_interests.Length];
            var band = SyntheticCatalog.HourBand(hour);
            var total = 0.0;
            for (var j = 0; j < w.Length; j++)
            {
                var top = _catalog.TopOf(_interests[j]);
                var pull = _o.HourStrength * _catalog.HourAffinity[top, band]
                         + _o.DeviceStrength * _catalog.DeviceAffinity[top, device]
                         + _o.SourceStrength * _catalog.SourceAffinity[top, source]
                         + (weekend ? _o.WeekendStrength * _catalog.WeekendAffinity[top] : 0.0);
                total += w[j] = _weights[j] * Math.Exp(pull);
            }
            for (var j = 0; j < w.Length; j++) w[j] /= total;
            return w;
        }

        // An ambiguous query names only the parent category (e.g. "shoes", not "running shoes"):
        // the leaf must then come from the user's history and context.
        string Query(int leaf, bool ambiguous)
        {
            var n = _random.Between(_o.MinQueryTokens, _o.MaxQueryTokens);
            var leafWords = _catalog.LeafWords[leaf];
            var topWords = _catalog.TopWords[_catalog.TopOf(leaf)];
            var generic = _catalog.GenericWords;
            _sb.Clear();
            // The first token always comes from the intent's own words (leaf, or parent when
            // ambiguous) so a query is never purely generic; later tokens mix leaf, parent and
            // generic words by the shares.
            var first = ambiguous ? topWords : leafWords;
            _sb.Append(first[_random.Next(first.Length)]);
            for (var t = 1; t < n; t++)
            {
                var r = _random.NextDouble();
                var words = r < _o.LeafTokenShare ? (ambiguous ? topWords : leafWords)
                          : r < _o.LeafTokenShare + _o.TopTokenShare ? topWords : generic;
                _sb.Append(' ').Append(words[_random.Next(words.Length)]);
            }
            return _sb.ToString();
        }

        SyntheticRequest Request(long time, int page, int device, int source, string query, bool ambiguous,
            int intent, double[] intentWeights, bool shifted)
        {
            var n = _random.Between(_o.MinShown, _o.MaxShown);
            var shown = Exposed(n, intent, ambiguous);
            var intentTop = _catalog.TopOf(intent);

            // The engine orders by a noisy relevance to the query: it sees the leaf only when the
            // query names it.
            var relevance = new double[n];
            for (var i = 0; i < n; i++)
            {
                var item = _items[shown[i]];
                relevance[i] = (!ambiguous && item.Leaf == intent ? 2.0 : 0.0) + (_catalog.TopOf(item.Leaf) == intentTop ? 1.0 : 0.0)
                             + 0.5 * item.Quality + _o.RankingNoise * _random.Gaussian();
            }
            Array.Sort(relevance, shown);
            Array.Reverse(shown);

            var clicked = new bool[n];
            var noise = new ClickNoise[n];
            var probability = new double[n];
            var outside = new bool[n];   // outside the intent's top category: where a cross-category click may land
            var pageExamination = Math.Pow(_o.PageExamination, page - 1);
            var outsideTop = 0;
            for (var i = 0; i < n; i++)
            {
                var item = _items[shown[i]];
                var examined = pageExamination * Math.Pow(i + 1, -_o.PositionBiasExponent);
                var logit = _o.BaseLogit + item.Quality + _o.PreferenceWeight * Preference(item.Leaf);
                if (item.Leaf == intent) logit += _o.LeafMatchWeight;
                else if (_catalog.TopOf(item.Leaf) == intentTop) logit += _o.TopMatchWeight;
                else { outside[i] = true; outsideTop++; }
                probability[i] = examined / (1.0 + Math.Exp(-logit));
                clicked[i] = _random.NextDouble() < probability[i];
            }
            for (var i = 0; i < n; i++)
            {
                var cross = outside[i] ? _o.CrossCategoryClickProbability / outsideTop : 0.0;
                probability[i] = 1.0 - (1.0 - probability[i]) * (1.0 - _o.AccidentalClickProbability) * (1.0 - cross);
            }
            // Accidental clicks hit any shown item; a cross-category click picks one item outside
            // the intent's top category. Both are recorded as clicks.
            for (var i = 0; i < n; i++)
            {
                if (!clicked[i] && _random.Bernoulli(_o.AccidentalClickProbability))
                {
                    clicked[i] = true;
                    noise[i] = ClickNoise.Accidental;
                }
            }
            if (_random.Bernoulli(_o.CrossCategoryClickProbability))
            {
                var candidates = 0;
                for (var i = 0; i < n; i++)
                    if (!clicked[i] && outside[i]) candidates++;
                if (candidates > 0)
                {
                    var pick = _random.Next(candidates);
                    for (var i = 0; i < n; i++)
                    {
                        if (clicked[i] || !outside[i]) continue;
                        if (pick-- == 0) { clicked[i] = true; noise[i] = ClickNoise.CrossCategory; break; }
                    }
                }
            }

            return new SyntheticRequest
            {
                User = _user,
                UserSequence = _sequence++,
                Timestamp = time,
                Query = query,
                // The request's own hour (a later page can cross the hour the intent was formed in).
                Hour = (int)(time % 86_400 / 3_600),
                Weekday = Weekday(time),
                Page = page,
                Device = device,
                Source = source,
                Items = shown,
                Clicked = clicked,
                Noise = noise,
                ClickProbability = probability,
                TrueIntentLeaf = intent,
                IntentLeaves = (int[])_interests.Clone(),
                IntentWeights = intentWeights,
                DominantLeaf = _interests[Dominant()],
                InterestShift = shifted,
                AmbiguousQuery = ambiguous,
            };
        }

        // 1970-01-01 was a Thursday; weekday 0 = Monday, 5 and 6 the weekend.
        static int Weekday(long time) => (int)((time / 86_400 + 3) % 7);

        // The user's long-term weight on a leaf (0 when it is not among the interests).
        double Preference(int leaf)
        {
            var j = Array.IndexOf(_interests, leaf);
            return j < 0 ? 0.0 : _weights[j];
        }

        // n distinct items: each slot from the intent leaf, a sibling leaf, or the catalogue by
        // popularity (exposure bias: popular items are shown more, whatever the query). For an
        // ambiguous query the engine knows only the parent, so the leaf and sibling slots draw
        // from any leaf under it.
        int[] Exposed(int n, int intent, bool ambiguous)
        {
            var shown = new int[n];
            var siblings = _o.LeavesPerTop - 1;
            var firstSibling = _catalog.TopOf(intent) * _o.LeavesPerTop;
            for (var i = 0; i < n; i++)
            {
                var r = _random.NextDouble();
                int item = -1;
                for (var attempt = 0; attempt < 32 && item < 0; attempt++)
                {
                    int candidate;
                    if (ambiguous && r < _o.IntentLeafShare + _o.IntentTopShare)
                        candidate = _exposure.FromLeaf(firstSibling + _random.Next(_o.LeavesPerTop), _random);
                    else if (r < _o.IntentLeafShare) candidate = _exposure.FromLeaf(intent, _random);
                    else if (r < _o.IntentLeafShare + _o.IntentTopShare && siblings > 0)
                    {
                        var sibling = firstSibling + _random.Next(siblings);
                        if (sibling >= intent) sibling++;
                        candidate = _exposure.FromLeaf(sibling, _random);
                    }
                    else candidate = _exposure.FromCatalog(_random);
                    if (Array.IndexOf(shown, candidate, 0, i) < 0) item = candidate;
                }
                // A tiny leaf can run out of unseen items: take the next unused catalogue item.
                if (item < 0)
                {
                    item = _exposure.FromCatalog(_random);
                    while (Array.IndexOf(shown, item, 0, i) >= 0) item = (item + 1) % _items.Length;
                }
                shown[i] = item;
            }
            return shown;
        }
    }
}
