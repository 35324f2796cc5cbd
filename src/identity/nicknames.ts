import { withinOneEdit } from './comparators.ts';

/**
 * Given names that stand for each other: a formal name with its usual short forms and pet names, and
 * spelling variants across languages. A name may belong to several groups ("alex" is Alexander and
 * Alexandra). Names are written normalised (lower case, no diacritics).
 */
const GROUPS: readonly (readonly string[])[] = [
  // English
  ['william', 'will', 'bill', 'billy', 'willy', 'liam', 'wil'],
  ['robert', 'rob', 'bob', 'bobby', 'robbie', 'bert'],
  ['richard', 'rick', 'rich', 'dick', 'ricky', 'richie'],
  ['james', 'jim', 'jimmy', 'jamie', 'jem'],
  ['john', 'jack', 'johnny', 'jon', 'jonny'],
  ['jonathan', 'jon', 'jonny', 'johnny', 'nathan'],
  ['michael', 'mike', 'mick', 'mikey', 'mickey', 'mitch'],
  ['thomas', 'tom', 'tommy'],
  ['charles', 'charlie', 'chuck', 'chas', 'chaz'],
  ['joseph', 'joe', 'joey', 'jos'],
  ['daniel', 'dan', 'danny'],
  ['matthew', 'matt', 'matty'],
  ['anthony', 'tony', 'ant'],
  ['christopher', 'chris', 'kit', 'topher'],
  ['christian', 'chris'],
  ['andrew', 'andy', 'drew'],
  ['edward', 'ed', 'eddie', 'ted', 'teddy', 'ned'],
  ['edmund', 'ed', 'eddie', 'ned'],
  ['benjamin', 'ben', 'benny', 'benji'],
  ['samuel', 'sam', 'sammy'],
  ['samantha', 'sam', 'sammy'],
  ['alexander', 'alex', 'alec', 'sandy', 'xander', 'sasha', 'alek'],
  ['alexandra', 'alex', 'alexa', 'sandra', 'sandy', 'sasha', 'lexi'],
  ['nicholas', 'nick', 'nicky', 'nico', 'klaus', 'nikolaus'],
  ['patrick', 'pat', 'paddy'],
  ['patricia', 'pat', 'patty', 'tricia', 'trish'],
  ['peter', 'pete'],
  ['stephen', 'steve', 'steven', 'stevie'],
  ['timothy', 'tim', 'timmy'],
  ['gregory', 'greg'],
  ['jeffrey', 'jeff', 'geoffrey', 'geoff'],
  ['kenneth', 'ken', 'kenny'],
  ['ronald', 'ron', 'ronnie'],
  ['donald', 'don', 'donnie'],
  ['douglas', 'doug'],
  ['frederick', 'fred', 'freddie', 'freddy'],
  ['henry', 'harry', 'hank', 'hal'],
  ['harold', 'harry', 'hal'],
  ['lawrence', 'larry', 'laurie'],
  ['leonard', 'leo', 'len', 'lenny'],
  ['nathaniel', 'nate', 'nat', 'nathan'],
  ['zachary', 'zach', 'zack'],
  ['joshua', 'josh'],
  ['jacob', 'jake', 'jakob'],
  ['gerald', 'gerry', 'jerry'],
  ['raymond', 'ray'],
  ['albert', 'al', 'bert', 'bertie'],
  ['alfred', 'alf', 'alfie', 'fred'],
  ['phillip', 'phil', 'philip', 'pip'],
  ['walter', 'walt', 'wally'],
  ['vincent', 'vince', 'vinnie'],
  ['lachlan', 'lachie', 'lockie'],
  ['oliver', 'ollie', 'olly'],
  ['elizabeth', 'liz', 'lizzie', 'beth', 'betty', 'bette', 'eliza', 'libby', 'lisa', 'elisabeth', 'elise'],
  ['margaret', 'maggie', 'peggy', 'meg', 'megan', 'marge', 'margie', 'greta', 'rita', 'margarethe'],
  ['katherine', 'kate', 'kathy', 'katie', 'kat', 'catherine', 'cathy', 'kathryn', 'caitlin', 'katharina'],
  ['jennifer', 'jen', 'jenny', 'jenn'],
  ['jessica', 'jess', 'jessie'],
  ['rebecca', 'becky', 'becca', 'bec'],
  ['deborah', 'debbie', 'deb', 'debra'],
  ['susan', 'sue', 'susie', 'suzanne'],
  ['victoria', 'vicky', 'tori', 'vikki'],
  ['abigail', 'abby', 'abbey', 'gail'],
  ['christine', 'chris', 'chrissy', 'tina', 'kristin', 'christina'],
  ['dorothy', 'dot', 'dotty', 'dolly'],
  ['eleanor', 'ellie', 'nell', 'nora', 'elly'],
  ['helen', 'nell', 'ellen', 'lena', 'helena'],
  ['isabella', 'bella', 'izzy', 'isabel', 'isobel', 'belle'],
  ['jacqueline', 'jackie', 'jacky'],
  ['josephine', 'jo', 'josie', 'jody'],
  ['kimberly', 'kim'],
  ['madeline', 'maddie', 'maddy', 'madeleine', 'madelyn'],
  ['natalie', 'nathalie', 'nat', 'natasha', 'tasha', 'natalia'],
  ['pamela', 'pam'],
  ['rosemary', 'rose', 'rosie'],
  ['sarah', 'sally', 'sadie', 'sara'],
  ['stephanie', 'steph', 'stevie'],
  ['theresa', 'terry', 'tess', 'tessa', 'teresa'],
  ['valerie', 'val'],
  ['amanda', 'mandy', 'manda'],
  ['charlotte', 'charlie', 'lottie', 'lotte'],
  ['olivia', 'liv', 'livvy'],
  ['gabrielle', 'gabby', 'gabi', 'gabriela', 'gabriella'],
  ['mary', 'molly', 'polly', 'mae', 'mamie', 'maria', 'marie', 'mariya'],
  ['anne', 'ann', 'annie', 'anna', 'hannah', 'nancy', 'anya'],
  // Spanish and Portuguese
  ['jose', 'pepe', 'chepe', 'joseph'],
  ['francisco', 'paco', 'pancho', 'frank', 'francis', 'fran', 'cisco'],
  ['guadalupe', 'lupe', 'lupita'],
  ['jesus', 'chuy', 'chucho'],
  ['ignacio', 'nacho'],
  ['enrique', 'quique', 'kike', 'henry'],
  ['guillermo', 'memo', 'guille', 'william'],
  ['alejandro', 'alex', 'alejo', 'jandro'],
  ['javier', 'javi'],
  ['dolores', 'lola', 'lolita'],
  ['concepcion', 'concha', 'conchita'],
  ['manuel', 'manolo', 'manu', 'emmanuel'],
  ['rafael', 'rafa'],
  ['roberto', 'beto', 'robert'],
  ['antonio', 'toni', 'tono', 'anthony'],
  ['juan', 'juanito', 'john'],
  ['joao', 'john', 'juan'],
  ['mercedes', 'merche', 'meche'],
  // German, Dutch, Scandinavian
  ['johann', 'johannes', 'hans', 'hannes', 'jan', 'john'],
  ['maximilian', 'max', 'maxi'],
  ['franziska', 'franzi'],
  ['wolfgang', 'wolf'],
  ['friedrich', 'fritz', 'frederick'],
  ['wilhelm', 'willi', 'willy', 'william'],
  ['katharina', 'katja', 'kathi', 'katrin'],
  ['elisabeth', 'elise', 'liesel', 'lisa', 'ilse'],
  ['magdalena', 'lena', 'leni', 'magda'],
  // French
  ['jean', 'john', 'jeannot'],
  ['guillaume', 'william'],
  ['francois', 'francis', 'frank'],
  ['jacques', 'jim', 'james'],
  ['marguerite', 'margot', 'margaret'],
  // Italian
  ['giuseppe', 'beppe', 'peppe', 'pino', 'joseph'],
  ['giovanni', 'gianni', 'vanni', 'john'],
  ['francesco', 'franco', 'cecco', 'checco', 'frank'],
  ['salvatore', 'toto', 'turi', 'salva'],
  ['vincenzo', 'enzo'],
  ['alessandra', 'sandra', 'ale'],
  ['alessandro', 'sandro', 'ale', 'alexander'],
  ['antonella', 'nella'],
  // Polish and Russian
  ['aleksander', 'olek', 'alek', 'alexander'],
  ['aleksandr', 'sasha', 'sanya', 'alexander'],
  ['katarzyna', 'kasia', 'kate', 'katherine'],
  ['malgorzata', 'gosia', 'malgosia', 'margaret'],
  ['aleksandra', 'ola', 'olka', 'alexandra'],
  ['agnieszka', 'aga'],
  ['krzysztof', 'krzysiek', 'christopher'],
  ['jakub', 'kuba', 'jacob'],
  ['wojciech', 'wojtek'],
  ['stanislaw', 'staszek', 'stan'],
  ['ekaterina', 'katya', 'katherine'],
  ['dmitri', 'dima', 'dmitry'],
  ['mikhail', 'misha', 'michael'],
  ['ivan', 'vanya', 'john'],
  ['elena', 'lena', 'helen'],
  ['anastasia', 'nastya', 'stacy'],
  ['vladimir', 'volodya', 'vova'],
  // Arabic and Turkish transliteration variants
  ['muhammad', 'mohammed', 'mohammad', 'mohamed', 'muhammed', 'mehmet', 'mo'],
  ['ahmed', 'ahmad', 'ahmet'],
  ['mustafa', 'mostafa', 'moustafa'],
  ['youssef', 'yusuf', 'yousef', 'joseph'],
  ['ibrahim', 'abraham'],
  ['fatima', 'fatma', 'fatimah'],
  ['aisha', 'ayesha', 'ayse', 'aysha'],
  ['abdullah', 'abdallah', 'abdulla', 'abdul'],
  ['mohammed', 'hamada'],
  // Indian
  ['venkatesh', 'venky'],
  ['subramanian', 'subbu', 'mani'],
  ['lakshmi', 'laxmi'],
  ['krishna', 'kris', 'krish'],
  ['rajesh', 'raj'],
  ['priyanka', 'priya'],
  // Chinese, Vietnamese, Japanese adopted and romanised forms
  ['xiaoming', 'ming'],
  ['nguyen', 'nguyn'],
  ['wei', 'way'],
  ['jun', 'june'],
  // Nigerian
  ['oluwaseun', 'seun'],
  ['oluwadamilare', 'dami', 'damilare'],
  ['olufunmilayo', 'funmi', 'funmilayo'],
  ['chukwuemeka', 'emeka'],
  ['ngozi', 'ngo'],
  ['babatunde', 'tunde'],
  ['adebayo', 'bayo'],
  ['temitope', 'tope'],
  ['ikechukwu', 'ike'],
];

const TYPO_MIN_LENGTH = 5;

const GROUPS_BY_NAME: ReadonlyMap<string, readonly number[]> = (() => {
  const map = new Map<string, number[]>();
  GROUPS.forEach((group, index) => {
    for (const name of group) {
      const list = map.get(name);
      if (list === undefined) map.set(name, [index]);
      else if (!list.includes(index)) list.push(index);
    }
  });
  return map;
})();

/**
 * The nickname groups a normalised given name belongs to, as numbers; two names stand for each other
 * when they share one. A name outside the table gets no groups.
 */
export function nicknameGroups(name: string): readonly number[] {
  return GROUPS_BY_NAME.get(name) ?? [];
}

/** Names of the table long enough for a mistyped spelling of them to be recognised. */
const TYPO_TOLERANT = [...GROUPS_BY_NAME.keys()].filter((name) => name.length >= TYPO_MIN_LENGTH);

/**
 * The nickname groups of a normalised given name as typed: its own, or, for a name outside the table
 * (of at least five letters), those of the table's names one edit away ("eddei" is "eddie", so
 * Edward; "margarett" is Margaret). Two table names one edit apart give no groups (it is not known
 * which was meant).
 */
export function nicknameGroupsAsTyped(name: string): readonly number[] {
  const own = GROUPS_BY_NAME.get(name);
  if (own !== undefined || name.length < TYPO_MIN_LENGTH) return own ?? [];
  let found: readonly number[] = [];
  let matches = 0;
  for (const known of TYPO_TOLERANT) {
    if (Math.abs(known.length - name.length) > 1 || !withinOneEdit(known, name)) continue;
    matches++;
    found = GROUPS_BY_NAME.get(known) ?? [];
  }
  return matches === 1 ? found : [];
}

/** True when two normalised given names are nicknames or variants of each other. */
export function areNicknames(a: string, b: string): boolean {
  if (a === b) return true;
  const ga = nicknameGroups(a);
  const gb = nicknameGroups(b);
  return ga.some((g) => gb.includes(g));
}

/** The names that stand for a given name (its nicknames and variants), for generators. */
export function nicknamesOf(name: string): readonly string[] {
  const out = new Set<string>();
  for (const g of nicknameGroups(name)) for (const n of GROUPS[g] ?? []) if (n !== name) out.add(n);
  return [...out];
}
